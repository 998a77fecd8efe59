"""A program's text with its syntax tree and the byte offset of every line, so that a node's
exact text can be read and replaced (``ast`` columns count UTF-8 bytes, not characters).
Shared by the mutants of a solution and the repairs of a learner's code."""

from __future__ import annotations

import ast


class SourceMap:
    """Text, tree, line offsets and each node's parent; raises ``SyntaxError``."""

    def __init__(self, text: str):
        self.text = text
        self.data = text.encode()
        self.tree = ast.parse(text)
        self.starts = [0]
        for line in self.data.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))
        self.parents = {child: parent for parent in ast.walk(self.tree)
                        for child in ast.iter_child_nodes(parent)}

    def start(self, node: ast.AST) -> int:
        return self.starts[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self.starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[attr-defined]

    def seg(self, node: ast.AST) -> str:
        """The node's exact text."""
        return self.data[self.start(node):self.end(node)].decode()

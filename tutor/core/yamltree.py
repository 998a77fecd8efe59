"""YAML that remembers where every value was written, parsed by libyaml when available.

``parse`` returns plain data in which every mapping and sequence also knows the line and
column of itself, of each key and of each value, so that every problem in a lesson can be
reported as ``file:line:column``. libyaml composes a whole course in milliseconds, where a
pure-Python round-trip parser takes most of a second.

A course may come from anyone, so the work is bounded: an alias is built again as a copy
wherever it is used, so a kilobyte of nested anchors and aliases ("billion laughs") would
build billions of values. ``parse`` counts what it builds, merge keys included, and refuses
a document past ``MAX_NODES`` with ``too many aliases/nodes`` at the line where it stopped,
long before memory is spent (the whole bundled course builds a few thousand).
"""

from __future__ import annotations

from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # PyYAML built without libyaml: same results, slower
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

YAMLError = yaml.YAMLError
MarkedYAMLError = yaml.MarkedYAMLError

Position = tuple[int, int]  # 0-based line and column
MAX_NODES = 50_000  # values one document may build, each alias counted where used (the
# largest bundled lesson builds about 800)


class DuplicateKey(yaml.MarkedYAMLError):
    """A mapping states the same key twice (plain YAML would silently keep the last)."""


class TooManyNodes(yaml.MarkedYAMLError):
    """The document builds more values than any course needs (nested aliases, mostly)."""


class Located:
    """Positions of a container (``line``, ``col``) and of its keys, values and items."""

    def __init__(self, start: Position):
        self.line, self.col = start
        self.keys: dict[Any, Position] = {}
        self.values: dict[Any, Position] = {}
        self.items: list[Position] = []

    def key(self, key: Any) -> Position:
        return self.keys[key]

    def value(self, key: Any) -> Position:
        return self.values[key]

    def item(self, index: int) -> Position:
        return self.items[index]


class LocatedMap(dict):
    """A dict whose ``lc`` says where it, its keys and its values were written."""

    lc: Located


class LocatedSeq(list):
    """A list whose ``lc`` says where it and each of its items were written."""

    lc: Located


def parse(text: str, max_nodes: int = MAX_NODES) -> Any:
    """Parse one YAML document into plain data with positions; raises ``YAMLError``
    (``TooManyNodes`` past ``max_nodes`` values built)."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _Builder(loader, max_nodes).build(node)
    except RecursionError:
        raise TooManyNodes(None, None, "too many aliases/nodes: values nested too deeply",
                           None) from None
    finally:
        loader.dispose()


class _Builder:
    """Builds plain data from composed nodes, counting every value it makes."""

    def __init__(self, loader: Any, max_nodes: int):
        self.loader = loader
        self.left = max_nodes
        self.limit = max_nodes

    def count(self, node: yaml.Node, n: int = 1) -> None:
        self.left -= n
        if self.left < 0:
            raise TooManyNodes(None, None, f"too many aliases/nodes: the document builds "
                               f"more than {self.limit:,} values (nested aliases?)",
                               node.start_mark)

    def build(self, node: yaml.Node) -> Any:
        self.count(node)
        if isinstance(node, yaml.MappingNode):
            self.flatten(node, set())
            out = LocatedMap()
            out.lc = _located(node)
            for key_node, value_node in node.value:
                key = self.build(key_node)
                if key in out:
                    raise DuplicateKey(None, None, f"duplicate key {key!r}",
                                       key_node.start_mark)
                out[key] = self.build(value_node)
                out.lc.keys[key] = _start(key_node)
                out.lc.values[key] = _start(value_node)
            return out
        if isinstance(node, yaml.SequenceNode):
            seq = LocatedSeq(self.build(item) for item in node.value)
            seq.lc = _located(node)
            seq.lc.items = [_start(item) for item in node.value]
            return seq
        return self.loader.construct_object(node, deep=True)

    def flatten(self, node: yaml.MappingNode, seen: set[int]) -> None:
        """Resolve `<<: *anchor` merges as PyYAML does, counting each merged pair (a chain
        of merges doubles at each step) and refusing a mapping that merges itself."""
        if id(node) in seen:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping merges itself (<<: on its own anchor)", node.start_mark)
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        own: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.tag == "tag:yaml.org,2002:value":
                    key_node.tag = "tag:yaml.org,2002:str"
                own.append((key_node, value_node))
                continue
            sources = (value_node.value if isinstance(value_node, yaml.SequenceNode)
                       else [value_node])
            for source in reversed(sources):
                if not isinstance(source, yaml.MappingNode):
                    raise yaml.constructor.ConstructorError(
                        None, None, "a merge (<<) takes a mapping or a list of mappings",
                        source.start_mark)
                self.flatten(source, seen | {id(node)})
                self.count(source, len(source.value))
                merged.extend(source.value)
        if merged:
            node.value = merged + own


def _located(node: yaml.Node) -> Located:
    return Located(_start(node))


def _start(node: yaml.Node) -> Position:
    return node.start_mark.line, node.start_mark.column

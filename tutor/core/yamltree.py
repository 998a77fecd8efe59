"""YAML that remembers where every value was written, parsed by libyaml when available.

``parse`` returns plain data in which every mapping and sequence also knows the line and
column of itself, of each key and of each value, so that every problem in a lesson can be
reported as ``file:line:column``. libyaml composes a whole course in milliseconds, where a
pure-Python round-trip parser takes most of a second.
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


class DuplicateKey(yaml.MarkedYAMLError):
    """A mapping states the same key twice (plain YAML would silently keep the last)."""


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


def parse(text: str) -> Any:
    """Parse one YAML document into plain data with positions; raises ``YAMLError``."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _build(node, loader)
    finally:
        loader.dispose()


def _build(node: yaml.Node, loader: Any) -> Any:
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves `<<: *anchor` merges
        out = LocatedMap()
        out.lc = _located(node)
        for key_node, value_node in node.value:
            key = _build(key_node, loader)
            if key in out:
                raise DuplicateKey(None, None, f"duplicate key {key!r}", key_node.start_mark)
            out[key] = _build(value_node, loader)
            out.lc.keys[key] = _start(key_node)
            out.lc.values[key] = _start(value_node)
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = LocatedSeq(_build(item, loader) for item in node.value)
        seq.lc = _located(node)
        seq.lc.items = [_start(item) for item in node.value]
        return seq
    return loader.construct_object(node, deep=True)


def _located(node: yaml.Node) -> Located:
    return Located(_start(node))


def _start(node: yaml.Node) -> Position:
    return node.start_mark.line, node.start_mark.column

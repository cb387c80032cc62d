"""YAML for configs: the safe loader with the refusals that hostile files need."""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

import yaml


class _Loader(yaml.SafeLoader):
    """Safe YAML with two refusals and one fix: no anchors or aliases (an alias bomb expands
    exponentially), no duplicate keys (the later one would win silently); and `1e-3` is a
    number (as in YAML 1.2), not the text that YAML 1.1 makes of it."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent) or getattr(self.peek_event(), "anchor", None):
            mark = self.peek_event().start_mark
            raise yaml.MarkedYAMLError(problem="anchors and aliases (&, *) are not allowed",
                                       problem_mark=mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                continue  # SafeLoader refuses it below, with its own message
            if key in seen:
                raise yaml.MarkedYAMLError(problem=f"duplicate key {repr(key)[:60]}",
                                           problem_mark=key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def safe_load(text: str) -> Any:
    """Parse config YAML; yaml.YAMLError (with a mark) on anything refused."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)

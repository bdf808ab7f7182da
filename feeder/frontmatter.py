"""YAML front matter: cut it off a brief and load it with the line of every key.

Only plain YAML: no anchors or aliases (a few lines could build a huge document), no explicit
tags (`!!python/object`, `!!binary`...). Timestamps stay text: feeder's date rules apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from feeder.errors import Problem

if TYPE_CHECKING:
    import yaml

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_FIRST_LINE = 2  # of the front matter, after the `---`


@cache
def _loader() -> type[yaml.SafeLoader]:
    """PyYAML's safe loader (the C one when it exists), reading timestamps as text. PyYAML is
    imported only when a brief has front matter."""
    import yaml

    base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[valid-type,misc]
        pass

    Loader.add_constructor(_TIMESTAMP, yaml.SafeLoader.construct_yaml_str)
    return Loader


@dataclass(frozen=True, slots=True)
class Field:
    value: Any
    line: int


def read(text: str, path: str) -> tuple[dict[str, Field], list[str], int] | Problem:
    """The fields of the `---` front matter of `text` (none without it), the lines of the
    body and the line number of the first."""
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        return {}, lines, 1
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            fields = _load("\n".join(lines[1:index]), path)
            return fields if isinstance(fields, Problem) else (fields, lines[index + 1:], index + 2)
    return Problem(path, 1, "front matter opened with '---' is never closed; "
                            "end it with a line '---'")


def _load(text: str, path: str) -> dict[str, Field] | Problem:
    """The front matter's keys, each with its value and line number."""
    if "*" in text or "&" in text or "!" in text:
        problem = _refuse_references(text, path)
        if problem:
            return problem
    import yaml

    loader = _loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}
        if not isinstance(node, yaml.MappingNode):
            return Problem(path, _FIRST_LINE + node.start_mark.line,
                           "front matter must be 'key: value' lines, e.g. 'title: ...'")
        fields: dict[str, Field] = {}
        for key_node, value_node in node.value:
            line = _FIRST_LINE + key_node.start_mark.line
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                return Problem(path, line, f"front matter key {key!r} is not a name")
            if key in fields:
                return Problem(path, line, f"{key!r} is given twice (first on line "
                                           f"{fields[key].line})")
            fields[key] = Field(loader.construct_object(value_node, deep=True), line)
        return fields
    except yaml.YAMLError as exc:
        return _yaml_problem(exc, text, path)
    finally:
        loader.dispose()


def _refuse_references(text: str, path: str) -> Problem | None:
    """The first alias (the billion laughs), else the first anchor or tag, found before any
    object is built (so no tag ever reaches the constructor)."""
    import yaml

    first: Problem | None = None
    try:
        for event in yaml.parse(text, Loader=_loader()):
            line = _FIRST_LINE + (event.start_mark.line if event.start_mark else 0)
            if isinstance(event, yaml.AliasEvent):
                return Problem(path, line, "YAML aliases (*name) are not allowed in front matter")
            for attribute, what in (("tag", "tags (!name)"), ("anchor", "anchors (&name)")):
                if first is None and getattr(event, attribute, None) is not None:
                    first = Problem(path, line, f"YAML {what} are not allowed in front matter")
    except yaml.YAMLError as exc:
        return _yaml_problem(exc, text, path)
    return first


def _yaml_problem(exc: yaml.YAMLError, text: str, path: str) -> Problem:
    import yaml

    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if "end of stream" in str(getattr(exc, "problem", "")) and getattr(exc, "context_mark", None):
        mark = exc.context_mark  # type: ignore[attr-defined]  # where the unclosed thing opened
    if mark is not None:
        line = _FIRST_LINE + mark.line
    elif isinstance(exc, yaml.reader.ReaderError):
        line = _FIRST_LINE + text.count("\n", 0, exc.position)
    else:
        line = _FIRST_LINE
    reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    detail = f"{reason} ({context})" if context else reason
    return Problem(path, line, f"invalid YAML front matter: {detail}")

"""`feeder new`: start a brief in the house layout, dated, with its sections ready to fill.

`new_brief` is pure: the title, tags and day (the CLI reads the clock) in, the file's path
and text out, checked by the brief parser itself. The brief starts as a draft (front matter
`draft: true` on top of the house layout), so that one left unfilled is never published;
started without it (`--publish`), its empty short version stops the build until it is
written. `write_brief` creates the file and never replaces one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from feeder.attachments import BRIEF_SUFFIXES
from feeder.brief import parse_brief
from feeder.config import Config
from feeder.errors import ConfigError, ContentError, Problem, errors_in
from feeder.text import Source, fold, slugify

SUFFIX = ".txt"
"""The house layout is plain text."""


@dataclass(frozen=True, slots=True)
class NewBrief:
    path: Path
    """Absolute: `<content_dir>/YYYY-MM-DD-<slug>.txt`."""
    display: str
    """The path as the user would type it."""
    text: str


def split_tags(values: Iterable[str]) -> tuple[str, ...]:
    """`--tag` values, each possibly comma-separated, trimmed, without case-insensitive repeats."""
    tags: dict[str, str] = {}
    for value in values:
        for name in value.split(","):
            name = " ".join(name.split())
            if name:
                tags.setdefault(fold(name), name)
    return tuple(tags.values())


def house_text(title: str, tags: Iterable[str], config: Config, *, draft: bool = False) -> str:
    """A brief in the house layout: title, tags, then every section label with room to write."""
    labels = list(config.section_labels)
    summary_keys = {label.casefold() for label in config.summary_labels}
    if not any(label.casefold() in summary_keys for label in labels):
        labels.insert(0, config.summary_labels[0])
    parts = [title, ", ".join(tags), *(f"{label}:\n\n" for label in labels)]
    front = "---\ndraft: true\n---\n" if draft else ""
    return front + "\n\n".join(parts).rstrip("\n") + "\n\n"


MAX_NAME_BYTES = 255
"""The longest file name (in UTF-8 bytes) the usual file systems take."""


def _controls(what: str, text: str) -> list[Problem]:
    """An error naming the first control character (or undecodable byte) in `text`."""
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cs") and not char.isspace():
            code = f"U+{ord(char):04X}" if unicodedata.category(char) == "Cc" else \
                "an undecodable byte"
            return [Problem("feeder new", None, f"the {what} holds a control character "
                                                f"({code}); remove it")]
    return []


def new_brief(config: Config, title: str, tags: Iterable[str], day: date, *,
              slug: str | None = None, draft: bool = True) -> NewBrief:
    """The brief `feeder new` writes, named `YYYY-MM-DD-<slug>.txt` in the content folder:
    a draft (front matter `draft: true`) unless `draft` is False.

    Raises ConfigError (a usage error) when the title, tags or slug cannot make a valid brief.
    """
    tags = tuple(tags)
    problems = _controls("title", title) + [problem for tag in tags
                                            for problem in _controls(f"tag {tag!r}", tag)][:1]
    problems += _controls("slug", slug or "")
    if problems:
        raise ConfigError(problems)
    title = " ".join(title.split())
    tags = split_tags(tags)
    if not title:
        problems.append(Problem("feeder new", None, "the title is empty"))
    if not tags:
        problems.append(Problem("feeder new", None,
                                "give at least one tag: --tag TAG (repeat it, or separate tags "
                                "with commas)"))
    made = slugify(slug if slug is not None else title)
    if title and not made:
        what = f"slug {slug!r}" if slug is not None else f"title {title!r}"
        problems.append(Problem("feeder new", None,
                                f"the {what} has no letter or digit to make a file name from; "
                                "give one with --slug"))
    name = f"{day.isoformat()}-{made}{SUFFIX}"
    if made and len(name.encode()) > MAX_NAME_BYTES:
        problems.append(Problem("feeder new", None,
                                f"the file name would be {len(name.encode())} bytes, more than "
                                f"file systems take ({MAX_NAME_BYTES}); give a shorter --slug"))
    if problems:
        raise ConfigError(problems)
    path = config.content_dir / name
    display = config.display_path(path)
    # Checked as the draft it is, or will be once --publish'ed and filled in.
    checked = house_text(title, tags, config, draft=True)
    _, found = parse_brief(Source(display, name, checked), config)
    if errors_in(found):  # e.g. a tag longer than the parser accepts
        shift = 0 if draft else checked.count("\n", 0, checked.index(title))
        raise ConfigError([replace(p, line=p.line - shift if p.line else p.line)
                           for p in errors_in(found)])
    return NewBrief(path, display, checked if draft else house_text(title, tags, config))


def write_brief(new: NewBrief) -> None:
    """Create the brief's file; refuse when it, or a brief with its date and slug, exists.

    Raises ContentError.
    """
    stem = new.path.name.removesuffix(SUFFIX)
    for suffix in BRIEF_SUFFIXES:
        twin = new.path.with_name(stem + suffix)
        if twin.exists():
            raise ContentError([Problem(new.display if twin == new.path else
                                        new.display.removesuffix(SUFFIX) + suffix, None,
                                        "already exists; not overwriting it (edit it, or give "
                                        "this brief another --slug)")])
    try:
        new.path.parent.mkdir(parents=True, exist_ok=True)
        with new.path.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(new.text)
    except FileExistsError:  # created since the check above
        raise ContentError([Problem(new.display, None, "already exists; not overwriting it")]) \
            from None
    except OSError as exc:
        raise ContentError([Problem(new.display, None,
                                    f"cannot create: {exc.strerror or exc}")]) from None

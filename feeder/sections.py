"""The sections of a brief's body, found from its Markdown block structure.

A light block-level pass over the lines after the title and tags (see docs/BRIEFS.md): it
knows fenced code, ATX and setext headings, and where a block starts (after a blank line, a
heading or a label), so that a list item's lazy continuation or a line inside a paragraph is
never taken for a label. Labels are matched folded (`text.fold_label`). Pure: lines in, an
`Outline` out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from feeder.text import fold_label

MAX_LABEL_LENGTH = 100
NEAR_MISS = 0.82
"""Similarity (difflib's ratio, on folded labels with and without a leading "the") from
which a label that is not a section label is taken for a misspelled one."""

FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^(#{1,6})[ \t]*(.*?)(?:[ \t]+#+)?[ \t]*$")
HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
"""A block that starts with a heading of its own line is not a standfirst."""
_SETEXT = re.compile(r"^(?:=+|-+)[ \t]*$")
_NOT_A_LABEL = re.compile(r"^([-+>|<`~]|\*[ \t]|\d+[.)][ \t]|#|[ \t])")
_EMPHASIS = re.compile(r"^(\*\*|__|\*|_)(?![\s*_])(.+?)(?<![\s*_])\1(?:[ \t]*(:))?$")
_OPENING = re.compile(r"^(\*\*|__|\*|_)(?=\S)")
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)]*\s")
"""A sentence ends inside the line: a label followed directly by text holds none."""
_SPACES = re.compile(r"[^\S\n\t]")
_MAY_OPEN = frozenset("#`~ \t")
"""The first characters of a line that may be a heading or a fence (in a paragraph)."""


def _spaced(text: str) -> str:
    """`text` with every kind of space as a plain one."""
    return text if text.isascii() else _SPACES.sub(" ", text)


class Heading(NamedTuple):
    """A label or heading that opens a section (level 2) or a sub-section (level 3)."""

    line: int
    """1-based line in the file."""
    label: str
    """As the content shows it: the setting's spelling for a section."""
    level: int
    texts: int = 0
    """Blocks of text under it, up to the next section (for a section) or label."""


@dataclass(frozen=True, slots=True)
class Outline:
    """What the pass found in a brief's body."""

    content: str
    """Markdown of the full text, labels as headings; "" when there is no text at all."""
    short: str | None
    """Markdown of the short version; None without a short-version section."""
    standfirst: str | None
    first_text: str | None
    headings: tuple[Heading, ...]
    notes: tuple[tuple[int, str], ...]
    """(line, warning): labels that are probably misspelled or misplaced."""
    has_text: bool
    """Whether any block is text (not a label)."""


@dataclass(frozen=True, slots=True)
class Labels:
    """The section labels of the settings, by their folded spelling."""

    sections: dict[str, str]
    summary: frozenset[str]
    reach: int = MAX_LABEL_LENGTH
    """How far into a line the colon of a section label with text after it can be."""


@lru_cache(maxsize=16)
def labels_of(section_labels: tuple[str, ...], summary_labels: tuple[str, ...]) -> Labels:
    """The labels of the settings `section_labels` and `summary_labels`."""
    sections = {fold_label(label): label for label in section_labels}
    sections.update({fold_label(label): label for label in summary_labels})
    reach = max(map(len, sections), default=0) * 2 + 8  # room for spaces and emphasis
    return Labels(sections, frozenset(fold_label(label) for label in summary_labels),
                  min(reach, MAX_LABEL_LENGTH))


def _shape(line: str) -> tuple[str, bool, bool] | None:
    """(text, ends with a colon, wrapped in emphasis) of a line that looks like a label."""
    raw = line.rstrip()
    if not raw or len(raw) > MAX_LABEL_LENGTH or _NOT_A_LABEL.match(raw) or "://" in raw:
        return None
    emphasis = _EMPHASIS.match(raw)
    colon = False
    text = raw
    if emphasis:
        text, colon = emphasis.group(2), emphasis.group(3) is not None
        if emphasis.group(1) in text:
            return None
    if text.endswith(":"):
        text, colon = text[:-1], True
    text = text.strip()
    return (text, colon, emphasis is not None) if text else None


def _heading_text(text: str) -> str:
    """A heading's text without a trailing colon or emphasis around it."""
    shape = _shape(text.strip())
    return shape[0] if shape else text.strip().rstrip(":").strip()


def _split_label(line: str, reach: int) -> tuple[str, str] | None:
    """(label, rest) of a line shaped `Label: text` (emphasis allowed around the label), the
    colon within `reach` characters."""
    opening = _OPENING.match(line)
    mark = opening.group(1) if opening else ""
    body = line[len(mark):]
    colon = body.find(":", 0, reach)
    if colon <= 0:
        return None
    label, rest = body[:colon], body[colon + 1:]
    if mark and label.endswith(mark):
        label = label[:-len(mark)]
    elif mark and rest.startswith(mark):
        rest = rest[len(mark):]
    elif mark:
        return None
    if not rest[:1].isspace() or not rest.strip() or _NOT_A_LABEL.match(label):
        return None
    return label.strip(), rest.strip()


def _unarticled(text: str) -> str:
    return text[4:] if text.startswith("the ") else text


@lru_cache(maxsize=4096)
def _nearest(key: str, known: tuple[str, ...]) -> str | None:
    """The folded section label `key` probably means, or None (a memo: sub-labels such as
    "here's what happened" recur in every brief)."""
    from difflib import SequenceMatcher

    best, best_ratio = None, NEAR_MISS
    for label in known:
        for a, b in ((key, label), (_unarticled(key), _unarticled(label))):
            matcher = SequenceMatcher(None, a, b, autojunk=False)
            if matcher.real_quick_ratio() >= best_ratio and matcher.quick_ratio() >= best_ratio \
                    and matcher.ratio() >= best_ratio:
                best, best_ratio = label, matcher.ratio()
    return best


class _Pass:
    """The state of the pass over one body."""

    def __init__(self, labels: Labels, first: int) -> None:
        self.labels = labels
        self.first = first
        self.blocks: list[tuple[int, str, int]] = []
        """(1-based line, text or label, level: 0 for text)."""
        self.notes: list[tuple[int, str]] = []
        self.pending: list[str] = []
        self.pending_line = 0

    def flush(self) -> None:
        if self.pending:
            self.blocks.append((self.pending_line, "\n".join(self.pending), 0))
            self.pending = []

    def text(self, line: int, text: str) -> None:
        if not self.pending:
            self.pending_line = line
        self.pending.append(text)

    def label(self, line: int, label: str, level: int) -> None:
        self.flush()
        self.blocks.append((line, label, level))

    def near(self, line: int, text: str, shown: str) -> None:
        """A warning when `text` is close to a section label without being one."""
        nearest = _nearest(fold_label(text), tuple(self.labels.sections))
        if nearest is not None:
            self.notes.append((line, f"{shown!r} is not a section label, so it opens no "
                                     f"section; did you mean "
                                     f"{self.labels.sections[nearest] + ':'!r}?"))

    def paragraph(self, start: int, lines: list[str]) -> None:
        """Split one blank-line paragraph into blocks of text and labels."""
        if len(lines) == 1 and self.plain(lines[0]):  # most paragraphs: one line of prose
            self.text(self.first + start, lines[0])
            return
        fence: str | None = None
        at_start = True
        index = 0
        while index < len(lines):
            line, number = lines[index], self.first + start + index
            index += 1
            if not at_start and fence is None and line[:1] not in _MAY_OPEN and (
                    index == len(lines) or lines[index][:1] not in "=-"):
                # inside a block, and no fence or heading: text (unless a misplaced label)
                if ":" in line[:self.labels.reach] or line[:1] in "*_":
                    self.inside(number, line)
                else:
                    self.text(number, line)
                continue
            fenced = FENCE.match(line)
            if fence is not None or fenced:
                if fenced and (fence is None or fenced.group(1).startswith(fence)):
                    fence = fenced.group(1)[:3] if fence is None else None
                self.text(number, line)
                at_start = False
                continue
            if index < len(lines) and _SETEXT.match(lines[index]) and line.strip():
                self.heading(number, line, _heading_text(line), lines[index])
                index += 1
                at_start = True
                continue
            heading = _ATX.match(line)
            if heading:
                self.heading(number, line, _heading_text(heading.group(2)))
                at_start = True
                continue
            opened = self.opens(number, line, alone=index == len(lines)) if at_start else None
            if opened is None:
                self.inside(number, line)
            at_start = bool(opened)

    def plain(self, line: str) -> bool:
        """Whether a paragraph of this one line is certainly text: too long for a label,
        starting with a letter, with no colon where a section label's could be."""
        return len(line) > MAX_LABEL_LENGTH and line[0].isalnum() and \
            ":" not in line[:self.labels.reach]

    def heading(self, number: int, line: str, text: str, underline: str | None = None) -> None:
        """A Markdown heading: a section when it names one, else kept as written (a heading
        ends a block, as Markdown sees it; what follows starts one)."""
        known = self.labels.sections.get(fold_label(text))
        if known:
            self.label(number, known, 2)
            return
        self.near(number, text, line.strip())
        self.text(number, line)
        if underline is not None:
            self.text(number + 1, underline)

    def opens(self, number: int, line: str, *, alone: bool) -> bool | None:
        """At the start of a block: None when the line is not a label; else the label is
        added, and whether the next line starts a block (False: the label's text follows
        on its line)."""
        shape = _shape(line)
        if shape is not None:
            text, colon, emphasis = shape
            known = self.labels.sections.get(fold_label(text))
            if known and (colon or emphasis or alone):
                self.label(number, known, 2)
                return True
            if colon and (alone or not _SENTENCE_END.search(text)):
                self.near(number, text, line.strip())
                self.label(number, _spaced(text), 3)
                return True
            if emphasis and not text.endswith((".", "!", "?")):
                self.near(number, text, line.strip())
        split = _split_label(line, self.labels.reach)
        if split is not None:
            known = self.labels.sections.get(fold_label(split[0]))
            if known:
                self.label(number, known, 2)
                self.text(number, split[1])
                return False
            self.near(number, split[0], split[0] + ":")
        return None

    def inside(self, number: int, line: str) -> None:
        """A line inside a block of text: a section label here is a mistake."""
        shape = _shape(line)
        if shape is not None and (shape[1] or shape[2]):
            label: str | None = shape[0]
        else:
            split = _split_label(line, self.labels.reach)
            label = split[0] if split is not None else None
        if label is not None and fold_label(label) in self.labels.sections:
            self.notes.append((number, f"{line.strip()!r} is inside a paragraph or list item, "
                                       "so it opens no section: put a blank line before it"))
        self.text(number, line)


def outline(paragraphs: Sequence[tuple[int, list[str]]], first: int,
            labels: Labels) -> Outline:
    """The sections of the paragraphs (each: index of its first line in the body, its lines)
    of a body whose first line is line `first` of the file."""
    scan = _Pass(labels, first)
    for start, lines in paragraphs:
        scan.paragraph(start, lines)
        scan.flush()
    return _assemble(scan.blocks, tuple(scan.notes), labels.summary)


def _assemble(blocks: list[tuple[int, str, int]], notes: tuple[tuple[int, str], ...],
              summary: frozenset[str]) -> Outline:
    content: list[str] = []
    short: list[str] | None = None
    in_short = False
    first_text: str | None = None
    standfirst: str | None = None
    headings: list[list[Any]] = []  # [line, label, level, blocks of text]
    section: list[Any] | None = None
    for line, text, level in blocks:
        if level == 0:
            content.append(text)
            if first_text is None:
                first_text = text
            if section is None:
                if standfirst is None and not HEADING.match(text):
                    standfirst = text
                continue
            section[3] += 1
            if headings[-1] is not section:  # a sub-label's
                headings[-1][3] += 1
            if in_short:
                short.append(text)  # type: ignore[union-attr]
            continue
        content.append(("## " if level == 2 else "### ") + text)
        heading = [line, text, level, 0]
        headings.append(heading)
        if level == 2:
            section = heading
            in_short = short is None and fold_label(text) in summary
            if in_short:
                short = []
        elif in_short:
            short.append("### " + text)  # type: ignore[union-attr]
    return Outline("\n\n".join(content) + "\n" if content else "",
                   "\n\n".join(short) if short is not None else None,
                   standfirst, first_text, tuple(Heading(*h) for h in headings), notes,
                   first_text is not None)

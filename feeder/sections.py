"""The sections of a brief's body, found from its Markdown block structure (docs/BRIEFS.md).

A light block-level pass that knows fenced code, ATX and setext headings and where a block
starts (after a blank line, a heading or a label), so that a line inside a paragraph or a list
item is never taken for a label. Labels are matched folded (`text.fold_label`).
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
"""Similarity (difflib's ratio, of folded labels with and without a leading "the") from which
a label that is no section label is taken for a misspelled one."""

FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_ATX = re.compile(r"^(#{1,6})[ \t]*(.*?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^(?:=+|-+)[ \t]*$")
_NOT_A_LABEL = re.compile(r"^([-+>|<`~]|\*[ \t]|\d+[.)][ \t]|#|[ \t])")
_EMPHASIS = re.compile(r"^(\*\*|__|\*|_)(?![\s*_])(.+?)(?<![\s*_])\1(?:[ \t]*(:))?$")
_OPENING = re.compile(r"^(\*\*|__|\*|_)(?=\S)")
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)]*\s")  # a sentence ends in the line
_SPACES = re.compile(r"[^\S\n\t]")
_MAY_OPEN = frozenset("#`~ \t")  # the first characters of a heading or a fence


class Heading(NamedTuple):
    """A label or heading that opens a section (level 2) or a sub-section (level 3)."""

    line: int
    label: str  # as the content shows it: the setting's spelling for a section
    level: int
    texts: int = 0  # blocks of text under it, up to the next section (or label, for level 3)


@dataclass(frozen=True, slots=True)
class Outline:
    """What the pass found in a brief's body."""

    content: str  # Markdown of the full text, labels as headings; "" when there is nothing
    short: str | None  # Markdown of the short version; None without its section
    short_section: Heading | None  # the first section under a summary label
    standfirst: str | None
    first_text: str | None  # None when no block is text
    headings: tuple[Heading, ...]
    notes: tuple[tuple[int, str], ...]  # (line, warning): labels probably misspelled or misplaced


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


@lru_cache(maxsize=4096)  # sub-labels such as "Why it matters:" recur in every brief
def _nearest(key: str, known: tuple[str, ...]) -> str | None:
    """The folded section label that the folded `key` probably misspells, or None."""
    from difflib import SequenceMatcher

    best, best_ratio = None, NEAR_MISS
    for label in known:
        for a, b in ((key, label), (key.removeprefix("the "), label.removeprefix("the "))):
            ratio = SequenceMatcher(None, a, b, autojunk=False).ratio()
            if ratio >= best_ratio:
                best, best_ratio = label, ratio
    return best


class _Pass:
    """The pass over one body, putting its blocks of text and labels together as they come."""

    def __init__(self, section_labels: tuple[str, ...], summary_labels: tuple[str, ...]) -> None:
        self.sections = {fold_label(label): label for label in section_labels + summary_labels}
        self.summary = {fold_label(label) for label in summary_labels}
        reach = max(map(len, self.sections), default=0) * 2 + 8  # room for spaces and emphasis
        self.reach = min(reach, MAX_LABEL_LENGTH)  # of the colon of a label with text after it
        self.notes: list[tuple[int, str]] = []
        self.pending: list[str] = []  # the lines of the block of text being read
        self.content: list[str] = []
        self.headings: list[list[Any]] = []  # [line, label, level, blocks of text]
        self.section: int | None = None  # the index in headings of the current section
        self.short_section: int | None = None
        self.short: list[str] = []
        self.standfirst: str | None = None
        self.first_text: str | None = None

    def flush(self) -> None:
        """End the block of text being read."""
        if not self.pending:
            return
        text = "\n".join(self.pending)
        self.pending = []
        self.content.append(text)
        if self.first_text is None:
            self.first_text = text
        if self.section is None:
            if self.standfirst is None and not HEADING.match(text):
                self.standfirst = text
            return
        self.headings[self.section][3] += 1
        if len(self.headings) - 1 != self.section:  # under a sub-label
            self.headings[-1][3] += 1
        if self.section == self.short_section:
            self.short.append(text)

    def label(self, line: int, label: str, level: int) -> None:
        self.flush()
        self.content.append(("## " if level == 2 else "### ") + label)
        self.headings.append([line, label, level, 0])
        if level == 2:
            self.section = len(self.headings) - 1
            if self.short_section is None and fold_label(label) in self.summary:
                self.short_section = self.section
        elif self.section is not None and self.section == self.short_section:
            self.short.append("### " + label)

    def near(self, line: int, text: str, shown: str) -> None:
        """A warning when `text` is close to a section label without being one."""
        nearest = _nearest(fold_label(text), tuple(self.sections))
        if nearest is not None:
            self.notes.append((line, f"{shown!r} is not a section label, so it opens no section; "
                                     f"did you mean {self.sections[nearest] + ':'!r}?"))

    def paragraph(self, start: int, lines: list[str]) -> None:
        """Split one blank-line paragraph, whose first line is line `start` of the file, into
        blocks of text and labels."""
        only = lines[0]
        if len(lines) == 1 and len(only) > MAX_LABEL_LENGTH and only[0].isalnum() and \
                ":" not in only[:self.reach]:  # certainly a line of prose, no label
            self.pending.append(only)
            return
        fence: str | None = None
        at_start = True
        index = 0
        while index < len(lines):
            line, number = lines[index], start + index
            index += 1
            if not at_start and fence is None and line[:1] not in _MAY_OPEN and (
                    index == len(lines) or lines[index][:1] not in "=-"):
                # inside a block, and no fence or heading: text (unless a misplaced label)
                if ":" in line[:self.reach] or line[:1] in "*_":
                    self.inside(number, line)
                else:
                    self.pending.append(line)
                continue
            fenced = FENCE.match(line)
            if fence is not None or fenced:
                if fenced and (fence is None or fenced.group(1).startswith(fence)):
                    fence = fenced.group(1)[:3] if fence is None else None
                self.pending.append(line)
                at_start = False
                continue
            if index < len(lines) and _SETEXT.match(lines[index]) and line.strip():
                self.heading(number, line, line, lines[index])
                index += 1
                at_start = True
                continue
            heading = _ATX.match(line)
            if heading:
                self.heading(number, line, heading.group(2))
                at_start = True
                continue
            opened = self.opens(number, line, alone=index == len(lines)) if at_start else None
            if opened is None:
                self.inside(number, line)
            at_start = bool(opened)

    def heading(self, number: int, line: str, text: str, underline: str | None = None) -> None:
        """A Markdown heading of `text`: a section when it names one (without a colon or
        emphasis around it), else kept as written (a heading ends a block, as Markdown sees it;
        what follows starts one)."""
        shape = _shape(text.strip())
        text = shape[0] if shape else text.strip().rstrip(":").strip()
        known = self.sections.get(fold_label(text))
        if known:
            self.label(number, known, 2)
            return
        self.near(number, text, line.strip())
        self.pending.append(line)
        if underline is not None:
            self.pending.append(underline)

    def opens(self, number: int, line: str, *, alone: bool) -> bool | None:
        """At the start of a block: None when the line is not a label; else the label is
        added, and whether the next line starts a block (False: the label's text follows
        on its line)."""
        shape = _shape(line)
        if shape is not None:
            text, colon, emphasis = shape
            known = self.sections.get(fold_label(text))
            if known and (colon or emphasis or alone):
                self.label(number, known, 2)
                return True
            if colon and (alone or not _SENTENCE_END.search(text)):
                self.near(number, text, line.strip())
                self.label(number, _SPACES.sub(" ", text), 3)
                return True
            if emphasis and not text.endswith((".", "!", "?")):
                self.near(number, text, line.strip())
        split = _split_label(line, self.reach)
        if split is not None:
            known = self.sections.get(fold_label(split[0]))
            if known:
                self.label(number, known, 2)
                self.pending.append(split[1])
                return False
            self.near(number, split[0], split[0] + ":")
        return None

    def inside(self, number: int, line: str) -> None:
        """A line inside a block of text: a section label here is a mistake."""
        shape = _shape(line)
        if shape is not None and (shape[1] or shape[2]):
            label: str | None = shape[0]
        else:
            split = _split_label(line, self.reach)
            label = split[0] if split is not None else None
        if label is not None and fold_label(label) in self.sections:
            self.notes.append((number, f"{line.strip()!r} is inside a paragraph or list item, "
                                       "so it opens no section: put a blank line before it"))
        self.pending.append(line)


def outline(paragraphs: Sequence[tuple[int, list[str]]],
            section_labels: tuple[str, ...], summary_labels: tuple[str, ...]) -> Outline:
    """The sections of a body's paragraphs (each: the line of the file it starts on, its lines)."""
    scan = _Pass(section_labels, summary_labels)
    for start, lines in paragraphs:
        scan.paragraph(start, lines)
        scan.flush()
    headings = tuple(Heading(*heading) for heading in scan.headings)
    return Outline("\n\n".join(scan.content) + "\n" if scan.content else "",
                   "\n\n".join(scan.short) if scan.short_section is not None else None,
                   None if scan.short_section is None else headings[scan.short_section],
                   scan.standfirst, scan.first_text, headings, tuple(scan.notes))

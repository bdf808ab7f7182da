"""Parsing one brief: the house layout and Markdown with YAML front matter.

The house layout (see docs/BRIEFS.md): line 1 the title, then the tags line, an optional
one-line standfirst, and sections opened by labels (`The Short of It:`, found by
feeder.sections). Front matter may replace the title and tags lines and add any field.
`parse_brief` is pure: a `Source` in, a `Brief` (or None) and every problem found out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from feeder import frontmatter
from feeder.attachments import Link, brief_name, choose_lead, find_links, names_file
from feeder.config import Config
from feeder.dates import parse_date, split_file_date
from feeder.errors import Problem
from feeder.sections import FENCE, HEADING, Heading, labels_of, outline
from feeder.text import (
    Source,
    did_you_mean,
    find_xml_forbidden,
    fold,
    fold_label,
    slugify,
    strip_xml_forbidden,
    strip_xml_forbidden_in,
)

FRONT_MATTER_KEYS = ("title", "date", "updated", "tags", "summary", "id", "slug", "author",
                     "draft", "image", "image_alt")
ID_SCHEMES = ("tag", "urn", "http", "https")
"""Schemes a pinned id may use: readers may follow an id, so never javascript: or data:."""
MAX_TAG_LENGTH = 50
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
MAX_NESTING = 100
"""Columns of indentation, `>` and list markers a line may start with. Python-Markdown
nests lists and quotes recursively: a few hundred levels exhaust Python's stack."""
_NESTING = re.compile(r"(?:[ \t>]|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t]))*")
_MARKER = re.compile(r"[>*+-]|\d[.)]")


MAX_PARAGRAPH_LINES = 200
"""Lines in one block of text between blank lines. Several of Python-Markdown's block
processors (headings, rules, abbreviations, definition lists) split a block one line at a
time, which takes time growing with the square of its length: a 1 MiB block of
definitions would take hours to render."""


def _too_long(lines: list[str]) -> tuple[int, int] | None:
    """(index of the first line, length) of the first block over MAX_PARAGRAPH_LINES, or None.

    A line of spaces and tabs separates blocks (Markdown sees it as blank); nothing else does,
    not even a code fence, which Markdown may not read as one.
    """
    start, count = 0, 0
    for index, line in enumerate(lines):
        if line.strip(" \t"):
            start, count = (start, count + 1) if count else (index, 1)
            if count > MAX_PARAGRAPH_LINES:
                end = index
                while end + 1 < len(lines) and lines[end + 1].strip(" \t"):
                    end += 1
                return start, end - start + 1
        else:
            count = 0
    return None


def _too_deep(lines: list[str]) -> tuple[int, int] | None:
    """(index, width) of the first line nested deeper than MAX_NESTING, or None.

    Only a prefix holding a quote or list marker nests; plain indentation is code or a
    continuation line, which Markdown does not nest. Fenced code is not exempt: a line that
    only looks like a fence to feeder must not hide a deep list from the check.
    """
    for index, line in enumerate(lines):
        prefix = _NESTING.match(line)
        if prefix is None or prefix.end() <= MAX_NESTING // 4:
            continue
        width = len(prefix.group(0).expandtabs(4))
        if width > MAX_NESTING and _MARKER.search(prefix.group(0)):
            return index, width
    return None


@dataclass(frozen=True, slots=True)
class Brief:
    """A parsed brief: plain values and Markdown, nothing rendered yet."""

    path: str
    rel: str
    title: str
    date: datetime
    updated: datetime | None
    tags: tuple[str, ...]
    """As spelled in this brief, trimmed, without case-insensitive duplicates."""
    slug: str
    id: str | None
    """The id pinned in front matter, if any."""
    id_line: int | None
    author: str | None
    draft: bool
    summary: str
    """Markdown of the short version."""
    content: str
    """Markdown of the full text: standfirst, then every section under its label."""
    links: tuple[Link, ...] = ()  # its links to files, and its lead image: feeder.attachments
    lead: Link | None = None


@dataclass(slots=True)
class _Paragraph:
    start: int
    """Index of the first line in the body."""
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _paragraphs(body: list[str]) -> list[_Paragraph]:
    """Blank-line separated paragraphs; a fenced code block is kept whole."""
    paragraphs: list[_Paragraph] = []
    current: _Paragraph | None = None
    fence: str | None = None
    for index, line in enumerate(body):
        if fence is None and not line.strip():
            current = None
            continue
        if current is None:
            current = _Paragraph(index, [])
            paragraphs.append(current)
        current.lines.append(line)
        match = FENCE.match(line)
        if match and (fence is None or match.group(1).startswith(fence)):
            fence = match.group(1)[:3] if fence is None else None
    return paragraphs


def _is_tags_line(paragraph: _Paragraph) -> bool:
    """A one-line paragraph that is not a label: what the house layout's tags line must be."""
    return len(paragraph.lines) == 1 and not paragraph.lines[0].rstrip().endswith(":")


class _Parser:
    def __init__(self, source: Source, config: Config) -> None:
        self.source = source
        self.config = config
        self.path = source.path
        self.problems: list[Problem] = []
        self.last_line = source.text.count("\n") + 1
        self.headings: tuple[Heading, ...] = ()

    def _within(self, line: int | None) -> int | None:
        # "Missing" things are reported where they should have been: past the end of a short
        # file, that is its last line.
        return None if line is None else min(line, self.last_line)

    def error(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.path, self._within(line), message))

    def warn(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.path, self._within(line), message, "warning"))

    def parse(self) -> Brief | None:
        text = self.source.text
        bad = find_xml_forbidden(text)
        if bad is not None:
            self.warn(text.count("\n", 0, bad) + 1,
                      "removed characters that XML does not allow (control characters)")
            text = strip_xml_forbidden(text)
        if not text.strip():
            self.error(1, "the file is empty; a brief needs a title, tags, a date and text")
            return None
        split = frontmatter.split(text, self.path)
        if isinstance(split, Problem):
            self.problems.append(split)
            return None
        fields: dict[str, frontmatter.Field] = {}
        if split.front_matter is not None:
            loaded = frontmatter.load(split.front_matter, split.front_matter_line, self.path)
            if isinstance(loaded, Problem):
                self.problems.append(loaded)
                return None
            for key, field in loaded.items():
                value = strip_xml_forbidden_in(field.value)
                if value != field.value:  # from YAML escapes such as "\x01"
                    self.warn(field.line, "removed characters that XML does not allow "
                                          "(control characters)")
                fields[key] = frontmatter.Field(value, field.line)
            for key, field in fields.items():
                if key not in FRONT_MATTER_KEYS:
                    hint = did_you_mean(key, FRONT_MATTER_KEYS)
                    self.warn(field.line, f"unknown front matter key {key!r} is ignored{hint}")
        deep = _too_deep(split.body)
        line = None if deep is None else split.body_line + deep[0]
        summary = fields.get("summary")
        if deep is None and summary is not None and isinstance(summary.value, str):
            deep, line = _too_deep(summary.value.split("\n")), summary.line
        if deep is not None:
            self.error(line, f"the line starts with {deep[1]} columns of quote and list markers "
                             f"and indentation; at most {MAX_NESTING} can be nested: flatten "
                             "the list or quote")
            return None
        long = _too_long(split.body)
        line = None if long is None else split.body_line + long[0]
        if long is None and summary is not None and isinstance(summary.value, str):
            long, line = _too_long(summary.value.split("\n")), summary.line
        if long is not None:
            self.error(line, f"this block of text has {long[1]} lines without a blank line; "
                             f"at most {MAX_PARAGRAPH_LINES} can be rendered: separate "
                             "paragraphs, list items or table rows with blank lines, or split "
                             "the table")
            return None
        return self._brief(fields, split)

    # --- the pieces of a brief ----------------------------------------------------------------

    def _brief(self, fields: dict[str, frontmatter.Field],
               split: frontmatter.Split) -> Brief | None:
        first = split.body_line
        paragraphs = _paragraphs(split.body)
        title, title_line = self._title(fields, paragraphs, first)
        if title_line is not None and "title" not in fields:
            paragraphs = paragraphs[1:]
        tags = self._tags(fields, paragraphs, first, from_body="title" not in fields)
        if "tags" not in fields and "title" not in fields and paragraphs \
                and _is_tags_line(paragraphs[0]):
            paragraphs = paragraphs[1:]
        summary, content = self._sections(fields, paragraphs, first)
        date = self._date(fields)
        updated = self._when(fields, "updated")
        if date and updated and updated < date:
            self.error(fields["updated"].line, "updated is earlier than date")
        slug = self._slug(fields, title)
        pinned_id = self._text(fields, "id")
        if pinned_id is not None and not _URI_SCHEME.match(pinned_id):
            self.error(fields["id"].line, f"id {pinned_id!r} is not a URI; use a tag: URI such as "
                                          "'tag:example.org,2016-10-04:radio-silent' or a URL")
        elif pinned_id is not None and pinned_id.split(":")[0].lower() not in ID_SCHEMES:
            self.error(fields["id"].line, f"id {pinned_id!r} must be a tag:, urn:, http: or "
                                          "https: URI")
        draft = fields.get("draft")
        if draft is not None and not isinstance(draft.value, bool):
            self.error(draft.line, "draft must be true or false")
        author = self._text(fields, "author")
        lead, problems = choose_lead(self.path, fields, links := find_links(self.source.text))
        self.problems.extend(problems)
        if any(p.is_error for p in self.problems) or not (title and date and slug and content):
            return None
        id_line = fields["id"].line if "id" in fields else None
        return Brief(path=self.path, rel=self.source.rel, title=title, date=date,
                     updated=updated, tags=tags, slug=slug, id=pinned_id, id_line=id_line,
                     author=author or None, draft=bool(draft and draft.value is True),
                     summary=summary, content=content, lead=lead,
                     links=tuple(link for link in links if names_file(link.target)))

    def _text(self, fields: dict[str, frontmatter.Field], key: str) -> str | None:
        field = fields.get(key)
        if field is None or field.value is None:
            return None
        value = field.value
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            kind = "true/false" if isinstance(value, bool) else (
                "a list" if isinstance(value, list) else
                "a mapping" if isinstance(value, dict) else type(value).__name__)
            self.error(field.line, f"{key} must be text, not {kind} (put it in quotes)")
            return None
        return " ".join(str(value).split()) if key != "summary" else str(value).strip()

    def _title(self, fields: dict[str, frontmatter.Field], paragraphs: list[_Paragraph],
               first: int) -> tuple[str, int | None]:
        if "title" in fields:
            title = self._text(fields, "title") or ""
            if not title and not any(p.line == fields["title"].line for p in self.problems):
                self.error(fields["title"].line, "title is empty")
            return title, fields["title"].line
        if not paragraphs:
            self.error(first, "missing title: the first line of a brief is its title")
            return "", None
        head = paragraphs[0]
        line = first + head.start
        if len(head.lines) > 1:
            self.error(line + 1, "the title must be a single line followed by a blank line")
        title = " ".join(HEADING.sub(r"\2", head.lines[0]).split())
        if not title:
            self.error(line, "missing title: the first line of a brief is its title")
        return title, line

    def _tags(self, fields: dict[str, frontmatter.Field], paragraphs: list[_Paragraph],
              first: int, *, from_body: bool) -> tuple[str, ...]:
        if "tags" in fields:
            field = fields["tags"]
            value = field.value
            if value == []:  # exactly `tags: []`: the one way to say "untagged"
                return ()
            if value is None:
                items: list[Any] = []
            elif isinstance(value, str):
                items = value.split(",")
            elif isinstance(value, list):
                items = value
            else:
                self.error(field.line, "tags must be a list ([russia, US]) or comma-separated text")
                return ()
            return self._clean_tags(items, field.line, empty="tags is empty: list the tags "
                                    "('tags: [one, two]'), or write 'tags: []' for an untagged "
                                    "brief")
        if not from_body:
            self.error(fields["title"].line, "missing tags: add 'tags: [one, two]' to the front "
                                             "matter ('tags: []' for an untagged brief)")
            return ()
        example = "write the tags comma-separated on the line after the title, e.g. russia, US"
        if not paragraphs:
            self.error(first + 2, f"missing tags line: {example}")
            return ()
        tags_paragraph = paragraphs[0]
        line = first + tags_paragraph.start
        if not _is_tags_line(tags_paragraph):
            self.error(line, f"missing tags line: {example}")
            return ()
        return self._clean_tags(tags_paragraph.lines[0].split(","), line,
                                empty=f"the tags line has no tags: {example} (an untagged "
                                      "brief needs front matter 'tags: []')")

    def _clean_tags(self, items: list[Any], line: int, *, empty: str) -> tuple[str, ...]:
        """The tags of `items`; `empty` is the error when none of them has any text."""
        if all(isinstance(item, str) and not item.strip() for item in items):
            self.error(line, empty)
            return ()
        tags: dict[str, str] = {}
        for item in items:
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                self.error(line, f"a tag must be text, not {item!r}")
                continue
            tag = " ".join(str(item).split())
            if not tag:
                continue
            if len(tag) > MAX_TAG_LENGTH:
                self.error(line, f"tag {tag[:20]!r}... is longer than {MAX_TAG_LENGTH} characters; "
                                 "is this line really the comma-separated tags line?")
                continue
            if not slugify(tag):
                self.error(line, f"tag {tag!r} has no letter or digit to make its URL from")
                continue
            tags.setdefault(fold(tag), tag)
        return tuple(tags.values())

    def _sections(self, fields: dict[str, frontmatter.Field], paragraphs: list[_Paragraph],
                  first: int) -> tuple[str, str]:
        labels = labels_of(self.config.section_labels, self.config.summary_labels)
        found = outline([(p.start, p.lines) for p in paragraphs], first, labels)
        self.headings = found.headings
        for line, message in found.notes:
            self.warn(line, message)
        draft = "draft" in fields and fields["draft"].value is True
        short = next((h for h in found.headings
                      if h.level == 2 and fold_label(h.label) in labels.summary), None)
        if short is not None and not short.texts and not draft:
            self.error(short.line, f"the short version ({short.label + ':'!r}) is empty: write "
                                   "it under its label (it is each entry's summary)")
        elif not found.has_text and not (draft and found.content):
            self.error(first, "the brief has no text after its title and tags")
            return "", ""
        for heading in found.headings:
            if heading.level == 2 and not heading.texts and heading is not short and not draft:
                self.warn(heading.line, f"the section {heading.label + ':'!r} is empty")
        summary_field = self._text(fields, "summary")
        fallback = found.standfirst or found.first_text or ""
        if not summary_field and short is None:
            names = " or ".join(repr(f"{label}:") for label in self.config.summary_labels)
            self.warn(None, f"no short version ({names} section) and no summary in front "
                            "matter; using the " + ("standfirst" if found.standfirst else
                                                    "first paragraph") + " as the summary")
        # (an empty short version is an error, or an unfilled draft's: the fallback)
        return summary_field or (short and short.texts and found.short) or fallback, \
            found.content

    def _when(self, fields: dict[str, frontmatter.Field], key: str) -> datetime | None:
        field = fields.get(key)
        if field is None or field.value is None:
            return None
        value = field.value
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.error(field.line, f"{key} must be a date such as 2016-10-04")
            return None
        try:
            return parse_date(str(value), self.config.tzinfo)
        except ValueError as exc:
            self.error(field.line, f"invalid {key}: {exc}")
            return None

    def _date(self, fields: dict[str, frontmatter.Field]) -> datetime | None:
        if "date" in fields:
            return self._when(fields, "date")
        name = PurePosixPath(brief_name(self.source.rel))
        day, _ = split_file_date(name.stem)
        if day is None:
            self.error(1, f"no date: name the file {'YYYY-MM-DD-' + name.name} "
                          "or add front matter with 'date: YYYY-MM-DD'")
            return None
        try:
            return parse_date(day, self.config.tzinfo)
        except ValueError as exc:
            self.error(None, f"the date in the file name is invalid: {exc}")
            return None

    def _slug(self, fields: dict[str, frontmatter.Field], title: str) -> str:
        if "slug" in fields:
            text = self._text(fields, "slug") or ""
            slug = slugify(text)
            if not slug:
                self.error(fields["slug"].line, f"slug {text!r} has no letter or digit")
            return slug
        _, rest = split_file_date(PurePosixPath(brief_name(self.source.rel)).stem)
        slug = slugify(rest) or slugify(title)
        if not slug and title:
            self.error(1, "cannot make a slug from the file name or the title; add 'slug:'")
        return slug


@dataclass(frozen=True, slots=True)
class Reading:
    """A brief as the parser read it: what `feeder check --explain` shows."""

    brief: Brief | None
    problems: tuple[Problem, ...]
    headings: tuple[Heading, ...]
    """The sections and sub-labels found, with their lines."""


def read_brief(source: Source, config: Config) -> Reading:
    """Parse one brief, keeping what the parser found on the way."""
    parser = _Parser(source, config)
    brief = parser.parse()
    return Reading(brief, tuple(parser.problems), parser.headings)


def parse_brief(source: Source, config: Config) -> tuple[Brief | None, tuple[Problem, ...]]:
    """Parse one brief. Returns the Brief (None when it has errors) and every problem found."""
    reading = read_brief(source, config)
    return reading.brief, reading.problems

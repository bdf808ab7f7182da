"""Parsing one brief (docs/BRIEFS.md): the house layout, or Markdown with YAML front matter.

The house layout: the title line, the tags line, an optional one-line standfirst, then the
sections (feeder.sections). Front matter may replace the title and tags lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from feeder import frontmatter, text
from feeder.attachments import Link, brief_name, choose_lead, find_links, names_file
from feeder.config import Config
from feeder.dates import parse_date, split_file_date
from feeder.errors import Problem, Severity
from feeder.frontmatter import Field
from feeder.sections import FENCE, HEADING, Heading, outline

FRONT_MATTER_KEYS = ("title", "date", "updated", "tags", "summary", "id", "slug", "author",
                     "draft", "image", "image_alt")
ID_SCHEMES = ("tag", "urn", "http", "https")  # readers may follow an id: never javascript:
MAX_TAG_LENGTH = 50
MAX_NESTING = 100
"""Columns of indentation, `>` and list markers a line may start with: Python-Markdown nests
lists and quotes recursively, and a few hundred levels exhaust Python's stack."""
MAX_PARAGRAPH_LINES = 200
"""Lines in one block of text: some of Python-Markdown's block processors split a block one
line at a time, in a time growing with the square of its length."""
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_NESTING = re.compile(r"(?:[ \t>]|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t]))*")
_MARKER = re.compile(r"[>*+-]|\d[.)]")
_KINDS = {bool: "true/false", list: "a list", dict: "a mapping"}
_CONTROL = "removed characters that XML does not allow (control characters)"
_NO_TITLE = "missing title: the first line of a brief is its title"
_TAGS_LINE = "write the tags comma-separated on the line after the title, e.g. russia, US"

Paragraphs = list[tuple[int, list[str]]]  # each paragraph's first line (in the file), its lines


def _too_long(lines: list[str]) -> tuple[int, str] | None:
    """(index, error) of the first block of text over MAX_PARAGRAPH_LINES. Only a line of
    spaces and tabs ends a block, not even a code fence, which Markdown may not read as one."""
    start = 0
    for index, line in enumerate([*lines, ""]):
        if line.strip(" \t"):
            continue
        if index - start > MAX_PARAGRAPH_LINES:
            return start, (f"this block of text has {index - start} lines without a blank "
                           f"line; at most {MAX_PARAGRAPH_LINES} can be rendered: separate "
                           "paragraphs, list items or table rows with blank lines, or split "
                           "the table")
        start = index + 1
    return None


def _too_deep(lines: list[str]) -> tuple[int, str] | None:
    """(index, error) of the first line nested deeper than MAX_NESTING. Only a prefix with a
    quote or list marker nests (plain indentation is code or a continuation line); fenced code
    is not exempt, as a line that only looks like a fence must not hide a deep list."""
    for index, line in enumerate(lines):
        prefix = _NESTING.match(line)
        if prefix is None or prefix.end() <= MAX_NESTING // 4:
            continue
        width = len(prefix.group(0).expandtabs(4))
        if width > MAX_NESTING and _MARKER.search(prefix.group(0)):
            return index, (f"the line starts with {width} columns of quote and list markers "
                           f"and indentation; at most {MAX_NESTING} can be nested: flatten "
                           "the list or quote")
    return None


def _paragraphs(body: list[str], first: int) -> Paragraphs:
    """The blank-line separated paragraphs of `body`, whose first line is line `first` of the
    file; a fenced code block is kept whole."""
    paragraphs: Paragraphs = []
    current: list[str] | None = None
    fence: str | None = None
    for index, line in enumerate(body, first):
        if fence is None and not line.strip():
            current = None
            continue
        if current is None:
            current = []
            paragraphs.append((index, current))
        current.append(line)
        match = FENCE.match(line)
        if match and (fence is None or match.group(1).startswith(fence)):
            fence = match.group(1)[:3] if fence is None else None
    return paragraphs


@dataclass(frozen=True, slots=True)
class Brief:
    """A parsed brief: plain values and Markdown, nothing rendered yet."""

    path: str
    rel: str
    title: str
    date: datetime
    updated: datetime | None
    tags: tuple[str, ...]  # as spelled in the brief, without case-insensitive duplicates
    slug: str
    id: str | None  # pinned in front matter
    id_line: int | None
    author: str | None
    draft: bool
    summary: str  # Markdown of the short version
    content: str  # Markdown of the full text: standfirst, then each section under its label
    links: tuple[Link, ...] = ()  # its links to files, and its lead image: feeder.attachments
    lead: Link | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    """A brief as the parser read it: what `feeder check --explain` shows."""

    brief: Brief | None
    problems: tuple[Problem, ...]
    headings: tuple[Heading, ...]  # the sections and sub-labels found


class _Parser:
    def __init__(self, source: text.Source, config: Config) -> None:
        self.source = source
        self.config = config
        self.name = PurePosixPath(brief_name(source.rel))
        self.file_date, self.file_slug = split_file_date(self.name.stem)
        self.problems: list[Problem] = []
        self.last_line = source.text.count("\n") + 1
        self.headings: tuple[Heading, ...] = ()
        self.fields: dict[str, Field] = {}
        self.first = 1  # the line of the file where the body starts
        self.draft = False

    def error(self, line: int | None, message: str, severity: Severity = "error") -> None:
        # Something missing is reported where it should have been: past the end of a short
        # file, that is its last line.
        line = None if line is None else min(line, self.last_line)
        self.problems.append(Problem(self.source.path, line, message, severity))

    def warn(self, line: int | None, message: str) -> None:
        self.error(line, message, "warning")

    def parse(self) -> Brief | None:
        raw = self.source.text
        bad = text.find_xml_forbidden(raw)
        if bad is not None:
            self.warn(raw.count("\n", 0, bad) + 1, _CONTROL)
            raw = text.strip_xml_forbidden(raw)
        if not raw.strip():
            self.error(1, "the file is empty; a brief needs a title, tags, a date and text")
            return None
        read = frontmatter.read(raw, self.source.path)
        if isinstance(read, Problem):
            self.problems.append(read)
            return None
        loaded, body, self.first = read
        for key, field in loaded.items():
            value = text.strip_xml_forbidden_in(field.value)
            if value != field.value:  # from YAML escapes such as "\x01"
                self.warn(field.line, _CONTROL)
            self.fields[key] = Field(value, field.line)
        for key, field in self.fields.items():
            if key not in FRONT_MATTER_KEYS:
                hint = text.did_you_mean(key, FRONT_MATTER_KEYS)
                self.warn(field.line, f"unknown front matter key {key!r} is ignored{hint}")
        summary = self.fields.get("summary")
        for check in (_too_deep, _too_long):
            found = check(body)
            line = None if found is None else self.first + found[0]
            if found is None and summary is not None and isinstance(summary.value, str):
                found, line = check(summary.value.split("\n")), summary.line
            if found is not None:
                self.error(line, found[1])
                return None
        self.draft = "draft" in self.fields and self.fields["draft"].value is True
        return self._brief(_paragraphs(body, self.first))

    def _brief(self, paragraphs: Paragraphs) -> Brief | None:
        title = self._title(paragraphs)
        tags = self._tags(paragraphs)
        summary, content = self._sections(paragraphs)
        date = self._date("date")
        updated = self._date("updated")
        if date and updated and updated < date:
            self.error(self.fields["updated"].line, "updated is earlier than date")
        slug = self._slug(title)
        pinned_id = self._text("id")
        id_line = self.fields["id"].line if "id" in self.fields else None
        if pinned_id is not None and not _URI_SCHEME.match(pinned_id):
            self.error(id_line, f"id {pinned_id!r} is not a URI; use a tag: URI such as "
                                "'tag:example.org,2016-10-04:radio-silent' or a URL")
        elif pinned_id is not None and pinned_id.split(":")[0].lower() not in ID_SCHEMES:
            self.error(id_line, f"id {pinned_id!r} must be a tag:, urn:, http: or https: URI")
        draft = self.fields.get("draft")
        if draft is not None and not isinstance(draft.value, bool):
            self.error(draft.line, "draft must be true or false")
        author = self._text("author")
        links = find_links(self.source.text)
        lead, problems = choose_lead(self.source.path, self.fields, links)
        self.problems.extend(problems)
        if any(p.is_error for p in self.problems) or not (title and date and slug and content):
            return None
        return Brief(path=self.source.path, rel=self.source.rel, title=title, date=date,
                     updated=updated, tags=tags, slug=slug, id=pinned_id, id_line=id_line,
                     author=author or None, draft=self.draft, summary=summary, content=content,
                     lead=lead, links=tuple(link for link in links if names_file(link.target)))

    def _text(self, key: str) -> str | None:
        field = self.fields.get(key)
        if field is None or field.value is None:
            return None
        value = field.value
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            kind = _KINDS.get(type(value), type(value).__name__)
            self.error(field.line, f"{key} must be text, not {kind} (put it in quotes)")
            return None
        return " ".join(str(value).split()) if key != "summary" else str(value).strip()

    def _title(self, paragraphs: Paragraphs) -> str:
        """The title: from the front matter, or the first paragraph (taken off `paragraphs`)."""
        if "title" in self.fields:
            title, line = self._text("title") or "", self.fields["title"].line
            if not title and not any(p.line == line for p in self.problems):
                self.error(line, "title is empty")
            return title
        if not paragraphs:
            self.error(self.first, _NO_TITLE)
            return ""
        start, lines = paragraphs.pop(0)
        if len(lines) > 1:
            self.error(start + 1, "the title must be a single line followed by a blank line")
        title = " ".join(HEADING.sub(r"\2", lines[0]).split())
        if not title:
            self.error(start, _NO_TITLE)
        return title

    def _tags(self, paragraphs: Paragraphs) -> tuple[str, ...]:
        """The tags: from the front matter, or the tags line (taken off `paragraphs`)."""
        field = self.fields.get("tags")
        if field is not None:
            if field.value == []:  # exactly `tags: []`: the one way to say "untagged"
                return ()
            if not isinstance(field.value, str | list | None):
                self.error(field.line, "tags must be a list ([russia, US]) or comma-separated text")
                return ()
            items = field.value.split(",") if isinstance(field.value, str) else field.value or []
            return self._clean_tags(items, field.line, empty="tags is empty: list the tags "
                                    "('tags: [one, two]'), or write 'tags: []' for an untagged "
                                    "brief")
        if "title" in self.fields:
            self.error(self.fields["title"].line, "missing tags: add 'tags: [one, two]' to the "
                                                  "front matter ('tags: []' for an untagged brief)")
            return ()
        if not paragraphs:
            self.error(self.first + 2, f"missing tags line: {_TAGS_LINE}")
            return ()
        start, lines = paragraphs[0]
        if len(lines) > 1 or lines[0].rstrip().endswith(":"):  # more than one line, or a label
            self.error(start, f"missing tags line: {_TAGS_LINE}")
            return ()
        del paragraphs[0]
        return self._clean_tags(lines[0].split(","), start,
                                empty=f"the tags line has no tags: {_TAGS_LINE} (an untagged "
                                      "brief needs front matter 'tags: []')")

    def _clean_tags(self, items: list[Any], line: int, *, empty: str) -> tuple[str, ...]:
        """The tags of `items`; `empty` is the error when none of them has any text."""
        if all(isinstance(item, str) and not item.strip() for item in items):
            self.error(line, empty)
            return ()
        tags: dict[str, str] = {}
        for item in items:
            tag = " ".join(str(item).split())
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                self.error(line, f"a tag must be text, not {item!r}")
            elif len(tag) > MAX_TAG_LENGTH:
                self.error(line, f"tag {tag[:20]!r}... is longer than {MAX_TAG_LENGTH} characters; "
                                 "is this line really the comma-separated tags line?")
            elif tag and not text.slugify(tag):
                self.error(line, f"tag {tag!r} has no letter or digit to make its URL from")
            elif tag:  # (a blank between two commas is skipped)
                tags.setdefault(text.fold(tag), tag)
        return tuple(tags.values())

    def _sections(self, paragraphs: Paragraphs) -> tuple[str, str]:
        """The summary and the content."""
        found = outline(paragraphs, self.config.section_labels, self.config.summary_labels)
        self.headings = found.headings
        for line, message in found.notes:
            self.warn(line, message)
        short = found.short_section
        if short is not None and not short.texts and not self.draft:
            self.error(short.line, f"the short version ({short.label + ':'!r}) is empty: write "
                                   "it under its label (it is each entry's summary)")
        elif found.first_text is None and not (self.draft and found.content):
            self.error(self.first, "the brief has no text after its title and tags")
            return "", ""
        for heading in found.headings:
            if heading.level == 2 and not heading.texts and heading is not short and not self.draft:
                self.warn(heading.line, f"the section {heading.label + ':'!r} is empty")
        summary_field = self._text("summary")
        fallback = found.standfirst or found.first_text or ""
        if not summary_field and short is None:
            names = " or ".join(repr(f"{label}:") for label in self.config.summary_labels)
            self.warn(None, f"no short version ({names} section) and no summary in front "
                            "matter; using the " + ("standfirst" if found.standfirst else
                                                    "first paragraph") + " as the summary")
        # (an empty short version is an error, or an unfilled draft's: the fallback)
        return summary_field or (short and short.texts and found.short) or fallback, \
            found.content

    def _date(self, key: str) -> datetime | None:
        """The date `key` of the front matter; without a `date` there, the file name's."""
        field = self.fields.get(key)
        if field is None and key == "date":
            if self.file_date is None:
                self.error(1, f"no date: name the file {'YYYY-MM-DD-' + self.name.name} "
                              "or add front matter with 'date: YYYY-MM-DD'")
                return None
            value, line, invalid = self.file_date, None, "the date in the file name is invalid"
        elif field is None or field.value is None:
            return None
        elif isinstance(field.value, bool) or not isinstance(field.value, str | int):
            self.error(field.line, f"{key} must be a date such as 2016-10-04")
            return None
        else:
            value, line, invalid = str(field.value), field.line, f"invalid {key}"
        try:
            return parse_date(value, self.config.tzinfo)
        except ValueError as exc:
            self.error(line, f"{invalid}: {exc}")
            return None

    def _slug(self, title: str) -> str:
        if "slug" in self.fields:
            value = self._text("slug") or ""
            slug = text.slugify(value)
            if not slug:
                self.error(self.fields["slug"].line, f"slug {value!r} has no letter or digit")
            return slug
        slug = text.slugify(self.file_slug) or text.slugify(title)
        if not slug and title:
            self.error(1, "cannot make a slug from the file name or the title; add 'slug:'")
        return slug


def read_brief(source: text.Source, config: Config) -> Reading:
    """Parse one brief, keeping what the parser found on the way."""
    parser = _Parser(source, config)
    brief = parser.parse()
    return Reading(brief, tuple(parser.problems), parser.headings)


def parse_brief(source: text.Source, config: Config) -> tuple[Brief | None, tuple[Problem, ...]]:
    """Parse one brief. Returns the Brief (None when it has errors) and every problem found."""
    reading = read_brief(source, config)
    return reading.brief, reading.problems

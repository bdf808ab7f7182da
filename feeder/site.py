"""The publication as a whole, pure: entries (each published brief with its permanent id, URL,
tags and HTML), tags merged case-insensitively, the combined feed and one feed per tag."""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import chain
from typing import NamedTuple
from urllib.parse import quote

from feeder.attachments import LeadImage, Media
from feeder.brief import Brief
from feeder.config import Config
from feeder.errors import Problem
from feeder.media import with_sizes
from feeder.render import Rendered, Sizes
from feeder.text import fold, slugify

TAGS_FOLDER = "tags"


@dataclass(frozen=True, slots=True)
class Tag:
    name: str
    """Shown to readers: the spelling used most often."""
    slug: str


@dataclass(frozen=True, slots=True)
class Body:
    """A brief's HTML as the site is planned from it: its digest and sizes, and the HTML
    itself when at hand (a rebuild plans from the digests: see `with_html`)."""

    digest: bytes
    sizes: Sizes
    html: Rendered | None = None

    @classmethod
    def of(cls, rendered: Rendered) -> Body:
        return cls(rendered.digest, rendered.sizes, rendered)


@dataclass(frozen=True, slots=True)
class Entry:
    """One brief as every output shows it."""

    id: str
    url: str
    slug: str
    path: str
    title: str
    published: datetime
    updated: datetime
    tags: tuple[Tag, ...]
    author: str | None
    body: Body = field(compare=False)
    image: LeadImage | None = None
    sizes: tuple[tuple[str, int, int], ...] = ()
    """The width and height of the pictures of its HTML, by URL."""
    digest: bytes = field(init=False, repr=False, compare=False)
    """SHA-256 of every field (see entry_digest): what output keys are made of."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", entry_digest(self))

    @property
    def html(self) -> Rendered:
        if self.body.html is None:
            raise RuntimeError(f"the HTML of {self.path} was not supplied")
        return self.body.html

    @property
    def summary_html(self) -> str:
        return with_sizes(self.html.summary_html, {url: (w, h) for url, w, h in self.sizes})

    @property
    def summary_text(self) -> str:
        return self.html.summary_text

    @property
    def content_html(self) -> str:
        return with_sizes(self.html.content_html, {url: (w, h) for url, w, h in self.sizes})


def entry_digest(entry: Entry) -> bytes:
    """SHA-256 of every field of `entry` but the HTML, which counts by its digest: the texts,
    each with its length (so that no two of them can run into each other)."""
    texts = (entry.id, entry.url, entry.slug, entry.path, entry.title, entry.author or "",
             entry.published.isoformat(), entry.updated.isoformat(),
             *[text for tag in entry.tags for text in (tag.name, tag.slug)])
    head = f"{entry.author is None} {len(entry.tags)} {' '.join(map(str, map(len, texts)))}"
    if entry.image is not None or entry.sizes:  # (the head of an entry without is as it was)
        head += repr((entry.image, entry.sizes))
    data = "\0".join((head, *texts)).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data + entry.body.digest).digest()


def with_html(entries: Sequence[Entry], html: Mapping[bytes, Rendered]) -> tuple[Entry, ...]:
    """`entries`, each with its HTML (from `html`, by body digest, where it has none)."""
    return tuple(entry if entry.body.html is not None else
                 replace(entry, body=replace(entry.body, html=html[entry.body.digest]))
                 for entry in entries)


@dataclass(frozen=True, slots=True)
class Feed:
    """One feed: the combined one or one tag's, in every format."""

    folder: str
    """Where its files go under the output folder: "" or "tags/<slug>/"."""
    title: str
    subtitle: str
    home_url: str
    """The HTML page the feed belongs to (its rel="alternate" link)."""
    base_url: str
    entries: tuple[Entry, ...]
    """Newest first."""
    tag: Tag | None = None
    hubs: tuple[str, ...] = ()
    archive: bool = False
    """An RFC 5005 archive document (fh:archive) rather than a subscription feed."""
    archive_links: tuple[tuple[str, str], ...] = ()
    """RFC 5005 links as (rel, folder of the other document), e.g. ("prev-archive",
    "archive/2/")."""
    empty_updated: datetime | None = None
    """The `updated` of a subscription feed whose entries all went to the archive (too large
    for max_feed_bytes): the newest change among them."""

    def url(self, name: str) -> str:
        """The absolute URL of the file `name` of this feed, e.g. `atom.xml`."""
        return self.base_url + quote(self.folder) + name

    @property
    def tag_scheme(self) -> str:
        """The scheme of the feed's categories: the URL of the tags folder."""
        return f"{self.base_url}{TAGS_FOLDER}/"

    @property
    def updated(self) -> datetime:
        """When the newest change to an entry happened (never the build time)."""
        if not self.entries and self.empty_updated is not None:
            return self.empty_updated
        return max(entry.updated for entry in self.entries)


@dataclass(frozen=True, slots=True)
class Site:
    """Everything that will be published."""

    entries: tuple[Entry, ...]
    """Newest first."""
    tags: tuple[tuple[Tag, tuple[Entry, ...]], ...]
    """Every tag (sorted by slug) with its entries, newest first."""
    feeds: tuple[Feed, ...]
    """The combined feed, then each tag's (sorted by slug), each followed by its RFC 5005
    archive pages, oldest first."""


def _day(moment: datetime, sep: str) -> str:
    return moment.strftime(f"%Y{sep}%m{sep}%d")


_UNQUOTED = re.compile(r"[A-Za-z0-9_.~/-]*")
"""What `quote` leaves as it is."""


def quote_path(path: str) -> str:
    """`urllib.parse.quote(path)`, without its cost for the plain paths most are."""
    return path if _UNQUOTED.fullmatch(path) else quote(path)


def brief_url(config: Config, brief: Brief) -> str:
    """The URL of a brief's page: `<base_url>YYYY/MM/DD/<slug>/`."""
    return f"{config.base_url}{_day(brief.date, '/')}/{quote_path(brief.slug)}/"


def entry_id(config: Config, brief: Brief) -> str:
    """The permanent id: the one pinned in front matter, else a tag: URI (RFC 4151)."""
    if brief.id:
        return brief.id
    return f"tag:{config.domain},{_day(brief.date, '-')}:{quote_path(brief.slug)}"


class Candidate(NamedTuple):
    """A valid brief with its permanent id, URL and body."""

    brief: Brief
    id: str
    url: str
    body: Body


def candidate(config: Config, brief: Brief, body: Body) -> Candidate:
    return Candidate(brief, entry_id(config, brief), brief_url(config, brief), body)


def index_tags(briefs: Iterable[Brief]) -> tuple[dict[str, Tag], tuple[Problem, ...]]:
    """Merge the briefs' tags case-insensitively (by folded name); each is named as spelled
    most often, ties going to the spelling that sorts first. Two different tags with one
    slug are an error."""
    briefs = list(briefs)
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for name, count in Counter(chain.from_iterable(brief.tags for brief in briefs)).items():
        spellings[fold(name)][name] = count
    tags: dict[str, Tag] = {}
    by_slug: dict[str, str] = {}
    problems: list[Problem] = []
    for key in sorted(spellings):
        name = min(spellings[key].items(), key=lambda item: (-item[1], item[0]))[0]
        slug = slugify(name)
        if slug in by_slug:
            other = tags[by_slug[slug]].name
            where = next(brief.path for brief in briefs
                         if any(fold(tag) == key for tag in brief.tags))
            problems.append(Problem(where, None,
                                    f"tags {other!r} and {name!r} would share the URL "
                                    f"tags/{slug}/; rename one of them"))
            continue
        by_slug[slug] = key
        tags[key] = Tag(name, slug)
    return tags, tuple(problems)


def check_unique(candidates: Sequence[Candidate]) -> tuple[Problem, ...]:
    """Two briefs with one id, or with one date and slug (one URL), are errors."""
    problems: list[Problem] = []
    for what in ("id", "date and slug"):
        first: dict[str, Brief] = {}
        for found in candidates:
            brief, value = found.brief, found.id if what == "id" else found.url
            if value in first:
                line = brief.id_line if what == "id" else None
                problems.append(Problem(brief.path, line,
                                        f"same {what} as {first[value].path} ({value}); "
                                        "give one of them another slug or id"))
            else:
                first[value] = brief
    return tuple(problems)


def is_published(brief: Brief, now: datetime, *, drafts: bool, future: bool) -> bool:
    """Drafts and briefs dated after `now` wait, unless asked for."""
    return (drafts or not brief.draft) and (future or brief.date <= now)


def make_entries(candidates: Iterable[Candidate], tags: Mapping[str, Tag],
                 media: Mapping[str, Media] | None = None) -> list[Entry]:
    """The entries of published briefs (`tags`: the site's, by folded name; a tag missing
    there lost a slug clash and is left out; `media`: by path in the content folder)."""
    entries = []
    for brief, entry_id_, url, body in candidates:
        chosen = tuple(tags[key] for key in map(fold, brief.tags) if key in tags)
        image, sizes = (media or {}).get(brief.rel, (None, ()))
        entries.append(Entry(entry_id_, url, brief.slug, brief.path, brief.title, brief.date,
                             brief.updated or brief.date, chosen, brief.author, body, image,
                             sizes))
    return entries


def newest_first(entries: Iterable[Entry]) -> tuple[Entry, ...]:
    """Entries by date (as instants), newest first; same dates by id, so the order never
    depends on the disk."""
    return tuple(sorted(entries, key=lambda entry: (entry.published, entry.id), reverse=True))


def group_feeds(entries: Iterable[Entry], config: Config
                ) -> tuple[tuple[Entry, ...], tuple[tuple[Tag, tuple[Entry, ...]], ...],
                           list[Feed]]:
    """The entries newest first, every tag with its entries, and the combined feed and
    one feed per tag (sorted by slug), each with all its entries."""
    ordered = newest_first(entries)
    by_tag: dict[str, tuple[Tag, list[Entry]]] = {}
    for entry in ordered:
        for tag in entry.tags:
            by_tag.setdefault(tag.slug, (tag, []))[1].append(entry)
    tags = tuple((tag, tuple(tagged)) for _, (tag, tagged) in sorted(by_tag.items()))
    feeds = [Feed("", config.title, config.description or config.title, config.base_url,
                  config.base_url, ordered, hubs=config.hubs)]
    for tag, tagged in tags:
        folder = f"{TAGS_FOLDER}/{tag.slug}/"
        feeds.append(Feed(folder=folder, title=f"{config.title}: {tag.name}",
                          subtitle=f"Briefs tagged {tag.name} from {config.title}",
                          home_url=config.base_url + quote(folder), base_url=config.base_url,
                          entries=tagged, tag=tag, hubs=config.hubs))
    return ordered, tags, feeds

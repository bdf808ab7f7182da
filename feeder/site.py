"""The publication as a whole: entries, tags, and which feeds exist at which paths.

Everything here is pure. `index_tags` merges tags case-insensitively and checks their slugs;
`candidate` gives a parsed and rendered brief its permanent id and URL, and `make_entries`
turns candidates into feed entries; `plan_site` decides the feeds: one combined, one per
tag, each newest first.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import InitVar, dataclass, field, fields
from datetime import datetime, timezone
from functools import lru_cache
from itertools import chain
from typing import TYPE_CHECKING, NamedTuple, Protocol, cast
from urllib.parse import quote

from feeder.body import Body
from feeder.config import Config
from feeder.errors import Problem
from feeder.text import fold, slugify

if TYPE_CHECKING:
    from feeder.brief import Brief  # parsed by another module (a rebuild may parse none)

TAGS_FOLDER = "tags"


@dataclass(frozen=True, slots=True)
class Tag:
    name: str
    """Shown to readers: the spelling used most often."""
    slug: str
    """Safe as one URL segment and one folder name."""


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
    body: Body
    """Its HTML: in memory, or read from the build cache when an output needs it."""
    digest: bytes = field(init=False, repr=False, compare=False)
    """SHA-256 of every other field (see `entry_digest`): what output keys are made of."""
    known_digest: InitVar[bytes] = b""
    """The digest, when it is known already (see `make_entries`): not computed again.
    (An InitVar: `dataclasses.replace` does not carry it over, so a copy with another field
    changed gets its own digest.)"""

    def __post_init__(self, known_digest: bytes) -> None:
        object.__setattr__(self, "digest", known_digest or entry_digest(self))

    @property
    def summary_html(self) -> str:
        return self.body.summary_html

    @property
    def summary_text(self) -> str:
        return self.body.summary_text

    @property
    def content_html(self) -> str:
        return self.body.content_html


class Dated(Protocol):
    """A brief or a candidate, as `is_published` reads it."""

    @property
    def date(self) -> datetime: ...
    @property
    def draft(self) -> bool: ...


class Tagged(Protocol):
    """A brief or a candidate, as `index_tags` reads it."""

    @property
    def path(self) -> str: ...
    @property
    def tags(self) -> tuple[str, ...]: ...


class Candidate(NamedTuple):
    """A valid brief as the site is planned from it: its permanent id and URL made, its HTML
    in a body, its Markdown let go. Made from a freshly parsed brief (`candidate`), or kept
    from the last build by the build cache (cache.BuildCache.known), so that a rebuild after
    one edit neither parses nor decodes the briefs that did not change. (A named tuple: a
    large site has one per brief, made again by every build.)"""

    path: str
    title: str
    date: datetime
    updated: datetime | None
    tags: tuple[str, ...]
    """As spelled in the brief."""
    slug: str
    author: str | None
    draft: bool
    id_line: int | None
    """The line of the id pinned in front matter, if any."""
    id: str
    """The entry id (see `entry_id`)."""
    url: str
    body: Body
    digest: bytes = b""
    """The digest of its entry when the entry's tags are `digest_tags`; b"" when unknown."""
    digest_tags: tuple[str, ...] = ()
    """The name and slug of each tag of the entry `digest` was made for."""


def candidate(config: Config, brief: Brief, body: Body) -> Candidate:
    """A parsed brief (with its HTML) ready to be checked and published."""
    return Candidate(brief.path, brief.title, brief.date, brief.updated, brief.tags, brief.slug,
                     brief.author, brief.draft, brief.id_line, entry_id(config, brief),
                     brief_url(config, brief), body)


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
    """WebSub hubs announced by the feed (rel="hub")."""
    archive: bool = False
    """An RFC 5005 archive document (fh:archive) rather than a subscription feed."""
    archive_links: tuple[tuple[str, str], ...] = ()
    """RFC 5005 links as (rel, folder of the other document), e.g. ("prev-archive",
    "archive/2/"); each format links to the file of its own format in that folder."""
    empty_updated: datetime | None = None
    """The `updated` of a subscription feed left without entries (they were all too large
    for max_feed_bytes and went to the archive): the newest change among them."""

    def url(self, name: str) -> str:
        """The absolute URL of the file `name` of this feed, e.g. `atom.xml`."""
        return self.base_url + quote(self.folder) + name

    @property
    def tag_scheme(self) -> str:
        """The scheme of the feed's categories: the URL of the tags folder."""
        return f"{self.base_url}{TAGS_FOLDER}/"

    @property
    def updated(self) -> datetime:
        """When the newest change to an entry of this feed happened (never the build time)."""
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
    """Every feed document: the combined feed, then each tag's (sorted by slug), each as its
    subscription feed followed by its RFC 5005 archive pages, oldest first (`Feed.archive`)."""


_DIGESTED: tuple[str, ...] = ()
"""The fields of Entry that `entry_digest` reads by name (every one but the body, the tags
and the digest itself), so that no field can be forgotten."""


def entry_digest(entry: Entry) -> bytes:
    """SHA-256 of every field of `entry`: what the keys of the output files are made from.

    Its body counts by its digest (the HTML is not read for it); text fields go in as they
    are, each with its length, and so do the name and slug of each tag; the other fields by
    their repr (a Tag's repr, the dataclass's, would take most of the time).
    """
    values = [getattr(entry, name) for name in _DIGESTED]
    texts = [value for value in values if type(value) is str]
    texts += [text for tag in entry.tags for text in (tag.name, tag.slug)]
    others = [value for value in values if type(value) is not str]
    head = repr((others, len(entry.tags), [len(text) for text in texts]))
    data = "\0".join([head, *texts]).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data + entry.body.digest).digest()


_DIGESTED = tuple(f.name for f in fields(Entry) if f.init and f.name not in ("body", "tags"))


def _day(moment: datetime, sep: str) -> str:
    """`YYYY<sep>MM<sep>DD`, as strftime writes it (faster)."""
    if moment.year < 1000:  # strftime does not pad the year everywhere
        return moment.strftime(f"%Y{sep}%m{sep}%d")
    return f"{moment.year}{sep}{moment.month:02d}{sep}{moment.day:02d}"


def brief_url(config: Config, brief: Brief) -> str:
    """The URL of a brief's page: `<base_url>YYYY/MM/DD/<slug>/`."""
    return f"{config.base_url}{_day(brief.date, '/')}/{quote(brief.slug)}/"


def entry_id(config: Config, brief: Brief) -> str:
    """The permanent id: the one pinned in front matter, else a tag: URI (RFC 4151)."""
    if brief.id:
        return brief.id
    return f"tag:{config.domain},{_day(brief.date, '-')}:{quote(brief.slug)}"


_key = lru_cache(maxsize=4096)(fold)
"""`fold`, kept for the few hundred tag spellings of a site (each is in thousands of briefs)."""


def index_tags(briefs: Iterable[Tagged]) -> tuple[dict[str, Tag], tuple[Problem, ...]]:
    """Merge the briefs' tags case-insensitively; each is named as spelled most often.

    Ties go to the spelling that sorts first. Two different tags with one slug are an error.
    """
    briefs = list(briefs)
    # Each spelling counted at C speed (a site has a few hundred, in tens of thousands of
    # places), then grouped by tag.
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for name, count in Counter(chain.from_iterable(brief.tags for brief in briefs)).items():
        spellings[_key(name)][name] = count
    tags: dict[str, Tag] = {}
    by_slug: dict[str, str] = {}
    problems: list[Problem] = []
    for key in sorted(spellings):
        name = min(spellings[key].items(), key=lambda item: (-item[1], item[0]))[0]
        slug = slugify(name)
        if slug in by_slug:
            other = tags[by_slug[slug]].name
            where = next(brief.path for brief in briefs
                         if any(_key(tag) == key for tag in brief.tags))
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
        first: dict[str, Candidate] = {}
        for brief in candidates:
            value = brief.id if what == "id" else brief.url
            if value in first:
                line = brief.id_line if what == "id" else None
                problems.append(Problem(brief.path, line,
                                        f"same {what} as {first[value].path} ({value}); "
                                        "give one of them another slug or id"))
            else:
                first[value] = brief
    return tuple(problems)


def is_published(brief: Dated, now: datetime, *, drafts: bool, future: bool) -> bool:
    """Drafts and briefs dated after `now` wait, unless asked for."""
    return (drafts or not brief.draft) and (future or brief.date <= now)


def make_entries(briefs: Iterable[Candidate], tags: dict[str, Tag]) -> list[Entry]:
    """The entries of published briefs (`tags` are the site's, by folded name)."""
    spelled: dict[str, tuple[Tag, tuple[str, str]] | None] = {}
    """Each spelling of a tag (a site has a few hundred) as its tag, with the tag's name and
    slug; None for a tag that lost a slug clash (only kept going with keep_going)."""
    entries: list[Entry] = []
    append = entries.append
    for brief in briefs:
        try:
            found = [spelled[name] for name in brief.tags]
        except KeyError:
            for name in brief.tags:
                if name not in spelled:
                    tag = tags.get(_key(name))
                    spelled[name] = None if tag is None else (tag, (tag.name, tag.slug))
            found = [spelled[name] for name in brief.tags]
        pairs = [item for item in found if item is not None] if None in found else \
            cast("list[tuple[Tag, tuple[str, str]]]", found)
        chosen = tuple([tag for tag, _ in pairs])
        texts = tuple([text for _, pair in pairs for text in pair])
        # (positional: the fields of Entry in order)
        append(Entry(brief.id, brief.url, brief.slug, brief.path, brief.title, brief.date,
                     brief.updated or brief.date, chosen, brief.author, brief.body,
                     brief.digest if brief.digest_tags == texts else b""))
    return entries


def newest_first(entries: Iterable[Entry]) -> tuple[Entry, ...]:
    """Entries by date, newest first; same dates by id, so the order never depends on disk.

    Each date is taken as its distance from the epoch: timedeltas compare as the dates do
    (by instant, whatever their zones), without asking the zones for their offsets at each
    of the many comparisons of a sort (a third of the time, at 10,000 briefs)."""
    return tuple(sorted(entries, key=lambda entry: (entry.published - _EPOCH, entry.id),
                        reverse=True))


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def plan_site(entries: Iterable[Entry], config: Config) -> Site:
    """The combined feed and one feed per tag, each as its subscription feed (the newest
    entries) followed by its archive pages (feeder.archive)."""
    from feeder.archive import plan_history  # here: feeder.archive imports this module

    ordered = newest_first(entries)
    by_tag: dict[str, tuple[Tag, list[Entry]]] = {}
    """By slug (a str keeps its hash; a Tag's is computed at each look-up)."""
    for entry in ordered:
        for tag in entry.tags:
            found = by_tag.get(tag.slug)
            if found is None:
                found = by_tag[tag.slug] = (tag, [])
            found[1].append(entry)
    tags = tuple((tag, tuple(tagged)) for _, (tag, tagged) in sorted(by_tag.items()))
    feeds = [Feed("", config.title, config.description or config.title, config.base_url,
                  config.base_url, ordered, hubs=config.hubs)]
    for tag, tagged in tags:
        folder = f"{TAGS_FOLDER}/{tag.slug}/"
        feeds.append(Feed(
            folder=folder,
            title=f"{config.title}: {tag.name}",
            subtitle=f"Briefs tagged {tag.name} from {config.title}",
            home_url=config.base_url + quote(folder),
            base_url=config.base_url,
            entries=tagged,
            tag=tag,
            hubs=config.hubs,
        ))
    return Site(ordered, tags, plan_history(feeds, config))

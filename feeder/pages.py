"""The web pages that go with the feeds: where a reader lands, finds a feed and follows it.

`plan_pages` plans the HTML pages of a `Site` and its stylesheet: `index.html` (the latest
briefs, paged), `tags/index.html` (every tag), one page per tag (`tags/<slug>/index.html`,
paged), and one page per brief at the URL its feed entries link to
(`YYYY/MM/DD/<slug>/index.html`). Each planned page carries the key of everything it is made
from and renders on demand, so the build cache skips the pages that cannot have changed;
`render_pages` renders them all. Every page names its feeds in `<head>` with
`<link rel="alternate">`, so browsers and feed readers discover them from the page address.

The pages come from the Jinja2 templates in `feeder/templates/`; the publisher's own files in
`templates/` of the project folder replace them by name (the caller reads those files and
passes their text in, so this module stays pure). Jinja2 escapes every value; the briefs' HTML
was sanitised by `render.py` and is marked safe here. Links between pages are relative, so the
site works wherever it is served (`feeder serve`, a sub-folder, the real host); the feeds and
the canonical links keep the absolute URLs under `base_url`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import quote, unquote

import jinja2
import markupsafe
from markupsafe import Markup

from feeder.body import Body
from feeder.config import TEMPLATES_FOLDER, Config
from feeder.errors import ConfigError
from feeder.feeds import FORMATS, rfc3339
from feeder.opml import OPML_FILE
from feeder.site import TAGS_FOLDER, Entry, Feed, Site, Tag
from feeder.theme import template_problem

STYLESHEET = "style.css"
PAGE_FOLDER = "page"
"""Listing pages after the first live in `<folder>page/<n>/`."""

FORMAT_LABELS: dict[str, str] = {"atom.xml": "Atom", "rss.xml": "RSS", "feed.json": "JSON Feed"}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


# --- what the templates see ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FeedLink:
    """One feed file, as a page links to it."""

    title: str
    """The feed's title with its format, e.g. `The Short of It: Russia (Atom)`."""
    label: str
    """The format: `Atom`, `RSS` or `JSON Feed`."""
    type: str
    """Its media type."""
    href: str
    """Relative to the page."""
    url: str
    """Absolute, under base_url: the address to paste into a feed reader."""


@dataclass(frozen=True, slots=True)
class TagLink:
    name: str
    slug: str
    href: str
    url: str


@dataclass(frozen=True, slots=True)
class TagView:
    """A tag with its page, its number of briefs and its feeds."""

    name: str
    slug: str
    href: str
    url: str
    count: int | None
    """How many briefs have the tag; None where a page does not show it (brief pages, and
    older listing pages, so that they stay the same when a brief is added)."""
    feeds: tuple[FeedLink, ...]


@dataclass(frozen=True, slots=True)
class EntryView:
    """A brief as the pages show it."""

    id: str
    title: str
    href: str
    url: str
    published: datetime
    published_iso: str
    published_text: str
    updated: datetime | None
    """Set only when the brief was updated after it was published."""
    updated_iso: str
    updated_text: str
    author: str | None
    tags: tuple[TagLink, ...]
    body: Body = field(repr=False)
    """Its HTML, read when a template shows it (a listing shows the summary only)."""

    # Sanitised by render.py (nh3) before it got here, unless the publisher trusts every
    # author (allow_raw_html): embedded as it is.
    @property
    def summary_html(self) -> Markup:
        return Markup(self.body.summary_html)  # noqa: S704

    @property
    def summary_text(self) -> str:
        """The short version as plain text, on one line."""
        return self.body.summary_text

    @property
    def content_html(self) -> Markup:
        return Markup(self.body.content_html)  # noqa: S704


@dataclass(frozen=True, slots=True)
class Pager:
    """Where a listing page sits among its pages.

    Older pages are numbered from the oldest (`page/1/` holds the first briefs ever
    published) and hold `max_entries` briefs each, so adding a brief changes the latest page
    only: an older page keeps its address and its bytes, as RFC 5005 archives do.
    """

    latest: bool
    """The first page (`index.html` of its folder): the newest briefs."""
    number: int
    """The page's number: `page/<number>/` (the latest page is one more than the newest
    older page)."""
    prev_href: str | None
    """Newer briefs."""
    next_href: str | None
    """Older briefs."""


@dataclass(frozen=True, slots=True)
class SiteView:
    title: str
    description: str
    language: str
    base_url: str
    author: str


# --- pure helpers ----------------------------------------------------------------------------

def long_date(moment: datetime) -> str:
    """`October 4, 2016`: English month names, the same on every machine (no locale)."""
    return f"{_MONTHS[moment.month - 1]} {moment.day}, {moment.year}"


def relative(here: str, target: str) -> str:
    """The URL of `target` relative to a page in the folder `here` (both under the site root,
    unquoted, folders ending with `/`): up to the root, then down to the target, so that it
    depends on the depth of `here` alone (`relative("tags/a/", "tags/b/")` is
    `../../tags/b/`) and every link from the pages at one depth is made once."""
    return "../" * here.count("/") + _quoted(target) or "./"


_Key = TypeVar("_Key")
_Made = TypeVar("_Made")


def _by_depth(memo: dict[tuple[_Key, int], _Made], key: _Key, here: str,
              make: Callable[[], _Made]) -> _Made:
    """`make()`, kept in `memo` for `key` and the depth of `here`: what a page links to
    depends on its depth alone (see `relative`)."""
    depth = here.count("/")
    found = memo.get((key, depth))
    if found is None:
        found = memo[key, depth] = make()
    return found


@lru_cache(maxsize=4096)
def _quoted(path: str) -> str:
    """`quote(path)`: pages link to the same few folders (tags, feeds) again and again."""
    return quote(path)


def brief_folder(entry: Entry, config: Config) -> str:
    """The folder of a brief's page under the output folder: `YYYY/MM/DD/<slug>/`."""
    if not entry.url.startswith(config.base_url):
        raise ValueError(f"entry URL {entry.url!r} is not under {config.base_url!r}")
    folder = entry.url[len(config.base_url):]
    return unquote(folder) if "%" in folder else folder  # (most are plain: one per brief)


def subscription_feeds(site: Site) -> tuple[Feed, ...]:
    """The feeds a reader subscribes to (not RFC 5005 archive documents): combined first."""
    return tuple(feed for feed in site.feeds if not feed.archive)


def _combined(site: Site) -> Feed:
    return next(feed for feed in subscription_feeds(site) if feed.tag is None)


def tag_feeds(site: Site) -> dict[str, Feed]:
    """The subscription feed of each tag, by slug."""
    return {feed.tag.slug: feed for feed in subscription_feeds(site) if feed.tag is not None}


class _Views:
    """Builds the template values for a page in the folder `here`.

    Pages link to the same few feeds and tags again and again, and show each brief on
    several listing pages; every link depends on the page's depth alone (see `relative`),
    so each view of a feed, a tag or a brief is made once per depth and process.
    """

    ENTRY_VIEWS = 20_000
    """Briefs' views kept at a time (by brief and depth): a brief is on one page of the
    combined listing and one of each of its tags', and on its own page; a large site's
    would take too much memory, so the memo starts again when it is full."""

    def __init__(self, site: Site, config: Config) -> None:
        self.config = config
        self.files = config.feed_files
        """The file of each feed in each published format: one link each."""
        self.tag_feeds = tag_feeds(site)
        self.combined = _combined(site)
        self._feed_links: dict[tuple[str, int], tuple[FeedLink, ...]] = {}
        self._tag_links: dict[tuple[str, int], TagLink] = {}
        self._tag_views: dict[tuple[tuple[str, int | None], int], TagView] = {}
        self._entries: dict[tuple[bytes, int], EntryView] = {}

    def feed_links(self, feed: Feed, here: str) -> tuple[FeedLink, ...]:
        return _by_depth(self._feed_links, feed.folder, here, lambda: tuple(
            FeedLink(f"{feed.title} ({FORMAT_LABELS[name]})", FORMAT_LABELS[name],
                     FORMATS[name], relative(here, feed.folder + name), feed.url(name))
            for name in self.files))

    def tag_link(self, tag: Tag, here: str) -> TagLink:
        def make() -> TagLink:
            folder = f"{TAGS_FOLDER}/{tag.slug}/"
            return TagLink(tag.name, tag.slug, relative(here, folder),
                           self.config.base_url + quote(folder))

        return _by_depth(self._tag_links, tag.slug, here, make)

    def tag_view(self, tag: Tag, here: str, count: int | None = None) -> TagView:
        def make() -> TagView:
            link = self.tag_link(tag, here)
            return TagView(tag.name, tag.slug, link.href, link.url, count,
                           self.feed_links(self.tag_feeds[tag.slug], here))

        return _by_depth(self._tag_views, (tag.slug, count), here, make)

    def entry(self, entry: Entry, here: str) -> EntryView:
        memo = self._entries
        if len(memo) >= self.ENTRY_VIEWS:
            memo.clear()
        return _by_depth(memo, entry.digest, here, lambda: self._entry_view(entry, here))

    def _entry_view(self, entry: Entry, here: str) -> EntryView:
        updated = entry.updated if entry.updated != entry.published else None
        return EntryView(
            id=entry.id,
            title=entry.title,
            href=relative(here, brief_folder(entry, self.config)),
            url=entry.url,
            published=entry.published,
            published_iso=rfc3339(entry.published),
            published_text=long_date(entry.published),
            updated=updated,
            updated_iso=rfc3339(updated) if updated else "",
            updated_text=long_date(updated) if updated else "",
            author=entry.author,
            tags=tuple(self.tag_link(tag, here) for tag in entry.tags),
            body=entry.body,
        )


def listing_pages(entries: Sequence[Entry], size: int) -> list[tuple[int, Sequence[Entry]]]:
    """A list of briefs (newest first) cut into pages: (number, briefs), the latest first.

    Older pages hold `size` briefs each, counted from the oldest; the latest page holds the
    rest (`size` to `2 * size - 1` briefs once there are that many), so that adding a brief
    changes the latest page only.
    """
    older = max(0, len(entries) // size - 1)
    latest = len(entries) - older * size
    pages = [(older + 1, entries[:latest])]
    for number in range(older, 0, -1):
        end = len(entries) - (number - 1) * size
        pages.append((number, entries[end - size:end]))
    return pages


def _page_folder(folder: str, number: int, latest: int) -> str:
    return folder if number == latest else f"{folder}{PAGE_FOLDER}/{number}/"


# --- templates -------------------------------------------------------------------------------

class _OverrideLoader(jinja2.BaseLoader):
    """The publisher's templates, already read; each named by its path for error messages."""

    def __init__(self, sources: Mapping[str, str]) -> None:
        self.sources = dict(sources)

    def get_source(self, environment: jinja2.Environment,  # noqa: ARG002
                   template: str) -> tuple[str, str, Any]:
        if template not in self.sources:
            raise jinja2.TemplateNotFound(template)
        return self.sources[template], f"{TEMPLATES_FOLDER}/{template}", lambda: True

    def list_templates(self) -> list[str]:
        return sorted(self.sources)


_NEW_STR = str.__new__
_ESCAPE_INNER: Callable[[str], str] | None = getattr(markupsafe, "_escape_inner", None)
"""MarkupSafe 3's escaping of a plain string (2.x has none: its `escape` is in C)."""


def _escape(value: Any) -> Markup:
    """markupsafe.escape, without the costs MarkupSafe 3 adds where there is nothing to do: a
    plain string is escaped into a Markup made directly, and a Markup (escaped already, and
    immutable) is returned as it is. Pages call it for every value they show (a million
    times in a build of 10,000 briefs: a fifth of the pages' time with markupsafe's)."""
    kind = type(value)
    if kind is str and _ESCAPE_INNER is not None:
        return _NEW_STR(Markup, _ESCAPE_INNER(value))
    if kind is Markup:
        return value  # type: ignore[no-any-return]
    return markupsafe.escape(value)


class _Template(jinja2.Template):
    """Jinja2's template, whose compiled code escapes values with `_escape`.

    The code Jinja2 compiles takes `escape` from its module's names; where that is
    markupsafe's, it is replaced there once, as the template is loaded. Should a Jinja2
    version load templates otherwise, they escape with markupsafe's own, as before."""

    @classmethod
    def _from_namespace(cls, environment: jinja2.Environment,
                        namespace: MutableMapping[str, Any], globals: Any) -> jinja2.Template:
        if namespace.get("escape") is markupsafe.escape:
            namespace["escape"] = _escape
        return super()._from_namespace(environment, namespace, globals)


def make_environment(overrides: Mapping[str, str],
                     compiled: jinja2.BytecodeCache | None = None) -> jinja2.Environment:
    """A Jinja2 environment: the publisher's templates first, then the package's; compiled
    templates kept in `compiled` (see cache.compiled_templates)."""
    loader = jinja2.ChoiceLoader([_OverrideLoader(overrides),
                                  jinja2.PackageLoader("feeder", "templates")])
    # auto_reload off: the templates cannot change during a build (they are read before it
    # starts), and checking costs a stat of each template file for every page.
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             auto_reload=False, bytecode_cache=compiled)
    env.template_class = _Template
    env.filters["long_date"] = long_date
    env.filters["rfc3339"] = rfc3339
    return env


class PlannedPage:
    """A page not rendered yet: the key of everything it is made from, and how to make it.

    Small on purpose (a site of 100,000 briefs plans over 100,000 pages): the function that
    builds its template values and their arguments, nothing built yet.
    """

    __slots__ = ("args", "here", "key", "made", "template", "values")

    def __init__(self, key: bytes, template: str, here: str,
                 values: Callable[..., dict[str, Any]], args: tuple[Any, ...]) -> None:
        self.key = key
        """SHA-256 of the templates, the settings, the template's name, the page's folder
        and everything its values are made from (each brief by its digest): two pages with
        one key have the same bytes."""
        self.template = template
        self.here = here
        self.values = values
        self.args = args
        self.made: bytes | None = None

    def make(self) -> bytes:
        """Renders the page. Raises ConfigError when a publisher's template fails."""
        if self.made is not None:
            return self.made
        renderer = self.args[0]
        made: bytes = renderer.make(self.template, self.here, self.values(*self.args))
        return made


class _Renderer:
    """Plans every page: its key now (cheap: digests only), its template values and bytes
    when it is made (in a worker process, and only when the key changed)."""

    def __init__(self, site: Site, config: Config, overrides: Mapping[str, str],
                 compiled: jinja2.BytecodeCache | None = None) -> None:
        self.site = site
        self.config = config
        self.overrides = overrides
        self.env = make_environment(overrides, compiled)
        self.views = _Views(site, config)
        author = config.author.name if config.author else config.title
        self.site_view = SiteView(config.title, config.description, config.language,
                                  config.base_url, author)
        self.base_digest = hashlib.sha256(self._templates_digest() + repr(config).encode(
            "utf-8", "surrogatepass"))
        self.plan: dict[str, PlannedPage] = {}

    def _templates_digest(self) -> bytes:
        """A digest of the text of every template the pages can use."""
        digest = hashlib.sha256()
        loader = self.env.loader
        if loader is None:  # make_environment always sets one
            return digest.digest()
        for name in sorted(set(loader.list_templates())):
            source = loader.get_source(self.env, name)[0]
            digest.update(f"{name}\0{len(source)}\0{source}".encode("utf-8", "surrogatepass"))
        return digest.digest()

    def _key(self, template: str, rel: str, made_from: tuple[Any, ...],
             entries: Iterable[Entry]) -> bytes:
        """The key of a page: `made_from` holds every value its `_values_*` method is
        called with except the site, the settings and the briefs (`entries`), which are
        digested instead."""
        digest = self.base_digest.copy()
        digest.update(repr((template, rel, made_from)).encode("utf-8", "surrogatepass"))
        digest.update(b"".join([entry.digest for entry in entries]))
        return digest.digest()

    def _plan(self, template: str, here: str, name: str, key: bytes,
              values: Callable[..., dict[str, Any]], *args: Any) -> None:
        """Plan the page `here + name`: `values(self, *args)` are its template's values."""
        self.plan[here + name] = PlannedPage(key, template, here, values, (self, *args))

    def make(self, template: str, here: str, given: dict[str, Any]) -> bytes:
        given.setdefault("feeds", ())
        given.update(site=self.site_view, root=relative(here, ""),
                     page_url=self.config.base_url + quote(here),
                     stylesheet=relative(here, STYLESHEET), home=relative(here, ""),
                     tags_index=relative(here, f"{TAGS_FOLDER}/"),
                     opml=relative(here, OPML_FILE))
        try:
            return self.env.get_template(template).render(given).encode("utf-8")
        except Exception as exc:  # a publisher's template can fail in any way
            problem = template_problem(exc, self.overrides)
            if problem is None:
                raise  # the package's own templates are broken: a bug
            raise ConfigError([problem]) from None

    # -- listings ------------------------------------------------------------------------

    def listing(self, template: str, folder: str, entries: Sequence[Entry], feed: Feed,
                tag: Tag | None = None) -> None:
        """The pages of a list of briefs: the latest in `folder`, older ones in
        `folder/page/<n>/` (see `listing_pages`).

        Each names `feed` in its head; a tag's pages also get the tag (`tag`), with its
        number of briefs on the latest page only.
        """
        pages = listing_pages(entries, self.config.max_entries)
        latest = pages[0][0]
        for number, chunk in pages:
            here = _page_folder(folder, number, latest)
            newer = relative(here, _page_folder(folder, number + 1, latest)) \
                if number < latest else None
            older = relative(here, _page_folder(folder, number - 1, latest)) \
                if number > 1 else None
            pager = Pager(number == latest, number, newer, older)
            count = len(entries) if number == latest else None
            tag_part = None if tag is None else (tag.name, tag.slug, count)
            key = self._key(template, here, (pager, feed.folder, feed.title, tag_part), chunk)
            self._plan(template, here, "index.html", key, _Renderer._values_listing, here,
                       chunk, pager, feed, tag, count)

    def _values_listing(self, here: str, chunk: Sequence[Entry], pager: Pager, feed: Feed,
                        tag: Tag | None, count: int | None) -> dict[str, Any]:
        views = self.views
        return {"entries": tuple(views.entry(e, here) for e in chunk), "pager": pager,
                "feeds": views.feed_links(feed, here),
                "tag": views.tag_view(tag, here, count) if tag else None}

    # -- the tags index ----------------------------------------------------------------------

    def tags_index(self) -> None:
        here = f"{TAGS_FOLDER}/"
        counts = tuple((tag, len(entries)) for tag, entries in self.site.tags)
        key = self._key("tags.html", here, (counts,), ())
        self._plan("tags.html", here, "index.html", key, _Renderer._values_tags, here, counts)

    def _values_tags(self, here: str, counts: tuple[tuple[Tag, int], ...]) -> dict[str, Any]:
        views = self.views
        return {"tags": tuple(views.tag_view(tag, here, count) for tag, count in counts),
                "feeds": views.feed_links(views.combined, here)}

    # -- briefs --------------------------------------------------------------------------------

    def brief(self, entry: Entry) -> None:
        here = brief_folder(entry, self.config)
        # The entry's digest covers its tags; their feeds follow from the tags and settings.
        # (Made as `_key` makes keys, without the repr: there is one page per brief.)
        digest = self.base_digest.copy()
        digest.update(b"brief.html\0" + here.encode("utf-8", "surrogatepass") + b"\0" +
                      entry.digest)
        self.plan[here + "index.html"] = PlannedPage(
            digest.digest(), "brief.html", here, _Renderer._values_brief, (self, here, entry))

    def _values_brief(self, here: str, entry: Entry) -> dict[str, Any]:
        views = self.views
        tags = tuple(views.tag_view(tag, here) for tag in entry.tags)
        combined_links = views.feed_links(views.combined, here)
        return {"entry": views.entry(entry, here), "tags": tags, "combined": combined_links,
                "feeds": _chain(combined_links, *(tag.feeds for tag in tags))}

    def _no_values(self) -> dict[str, Any]:
        return {}

    def run(self) -> dict[str, PlannedPage]:
        combined = _combined(self.site)
        self.listing("index.html", "", self.site.entries, combined)
        self.tags_index()
        for tag, entries in self.site.tags:
            self.listing("tag.html", f"{TAGS_FOLDER}/{tag.slug}/", entries,
                         self.views.tag_feeds[tag.slug], tag)
        for entry in self.site.entries:
            self.brief(entry)
        self._plan(STYLESHEET, "", STYLESHEET, self._key(STYLESHEET, "", (), ()),
                   _Renderer._no_values)
        if self.overrides:
            self._try_each_template()
        return self.plan

    def _try_each_template(self) -> None:
        """Render the first page of each template now, so that a broken template of the
        publisher's is reported before anything is written."""
        tried: set[str] = set()
        for page in self.plan.values():
            if page.template not in tried:
                tried.add(page.template)
                page.made = page.make()


def _chain(*groups: Iterable[FeedLink]) -> tuple[FeedLink, ...]:
    return tuple(link for group in groups for link in group)


def plan_pages(site: Site, config: Config, overrides: Mapping[str, str] | None = None,
               compiled: jinja2.BytecodeCache | None = None) -> dict[str, PlannedPage]:
    """Every page of the site and its stylesheet, keyed and not rendered yet. Pure (but
    for `compiled`, where the templates compiled by an earlier build are found, and these
    kept: see cache.compiled_templates).

    `overrides` maps template names (`index.html`, `style.css`, ...) to the text of the
    publisher's own versions; each of those templates is tried on one page here, so that
    most mistakes in them raise ConfigError (naming the file and line) before any page is
    made.
    """
    return _Renderer(site, config, overrides or {}, compiled).run()


def render_pages(site: Site, config: Config,
                 overrides: Mapping[str, str] | None = None) -> dict[str, bytes]:
    """Every page of the site and its stylesheet: relative POSIX path -> bytes. Pure.

    Raises ConfigError, naming the file and line, when a publisher's template is broken.
    """
    return {rel: page.make() for rel, page in plan_pages(site, config, overrides).items()}

"""The web pages that go with the feeds: `index.html` (the latest briefs, paged),
`tags/index.html`, one page per tag (paged), one per brief at the URL its feed entries link to
(`YYYY/MM/DD/<slug>/index.html`), and the stylesheet. Each names its feeds in `<head>` with
`<link rel="alternate">`.

Each planned page carries the key of everything it is made from and renders on demand, so a
rebuild makes only the pages whose key changed. The Jinja2 templates of `feeder/templates/` are
replaced by name by the publisher's (read by the caller: this module is pure). Links between
pages are relative, so the site works wherever it is served; feeds and canonical links keep
the absolute URLs under `base_url`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain
from pathlib import PurePosixPath
from typing import Any, TypeVar
from urllib.parse import quote, unquote

import jinja2

from feeder.config import TEMPLATES_FOLDER, Config
from feeder.feeds import FORMATS, rfc3339
from feeder.media import local_sources, page_meta
from feeder.opml import OPML_FILE
from feeder.render import Rendered
from feeder.site import TAGS_FOLDER, Entry, Feed, Site, Tag, quote_path, with_html
from feeder.theme import render
from feeder.views import (
    EntryView,
    FeedLink,
    Pager,
    SiteView,
    TagLink,
    TagView,
    long_date,
)

STYLESHEET = "style.css"
PAGE_FOLDER = "page"
"""Listing pages after the first live in `<folder>page/<n>/`."""

FORMAT_LABELS: dict[str, str] = {"atom.xml": "Atom", "rss.xml": "RSS", "feed.json": "JSON Feed"}


# --- pure helpers ----------------------------------------------------------------------------

def favicon_file(config: Config) -> str:
    """The favicon's name in the output folder: `favicon.svg` (built in) or `favicon` with
    the suffix of the file the setting names."""
    return "favicon" + (PurePosixPath(config.favicon).suffix.lower() if config.favicon
                        else ".svg")


def relative(here: str, target: str) -> str:
    """The URL of `target` relative to a page in the folder `here` (both under the site root,
    unquoted, folders ending with `/`): up to the root, then down to the target, so that it
    depends on the depth of `here` alone (`relative("tags/a/", "tags/b/")` is
    `../../tags/b/`) and every link from the pages at one depth is made once."""
    return "../" * here.count("/") + quote_path(target) or "./"


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


def brief_folder(entry: Entry, config: Config) -> str:
    """The folder of a brief's page under the output folder: `YYYY/MM/DD/<slug>/`."""
    if not entry.url.startswith(config.base_url):
        raise ValueError(f"entry URL {entry.url!r} is not under {config.base_url!r}")
    folder = entry.url[len(config.base_url):]
    return unquote(folder) if "%" in folder else folder  # (most are plain: one per brief)


def tag_feeds(site: Site) -> dict[str, Feed]:
    """The subscription feed (not an RFC 5005 archive document) of each tag, by slug."""
    return {feed.tag.slug: feed for feed in site.feeds if not feed.archive and feed.tag}


class _Views:
    """Builds the template values for a page in the folder `here`.

    Pages link to the same few feeds and tags again and again, and show each brief on
    several listing pages; every link depends on the page's depth alone (see `relative`),
    so each view of a feed, a tag or a brief is made once per depth and build.
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
        self.combined = next(feed for feed in site.feeds if not feed.archive and feed.tag is None)
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
            html=Rendered(local_sources(entry.summary_html, self.config.base_url, here),
                          entry.summary_text,
                          local_sources(entry.content_html, self.config.base_url, here)),
            meta=page_meta(entry.image) if entry.image else (),
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


def make_environment(overrides: Mapping[str, str]) -> jinja2.Environment:
    """A Jinja2 environment: the publisher's templates first, then the package's."""
    loader = jinja2.ChoiceLoader([_OverrideLoader(overrides),
                                  jinja2.PackageLoader("feeder", "templates")])
    # auto_reload off: the templates are read before the build; checking costs a stat a page.
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             auto_reload=False)
    env.filters["long_date"] = long_date
    env.filters["rfc3339"] = rfc3339
    return env


class PlannedPage:
    """A page not rendered yet: the key of everything it is made from, the entries it shows
    and how to make it (a site of 100,000 briefs plans over 100,000 pages: nothing is built
    before it is made)."""

    __slots__ = ("args", "entries", "key", "template", "values")

    def __init__(self, key: bytes, template: str, values: Callable[..., dict[str, Any]],
                 args: tuple[Any, ...], entries: tuple[Entry, ...] = ()) -> None:
        self.key = key
        """SHA-256 of the templates, the settings, the template's name, the page's folder
        and everything its values are made from (each brief by its digest): two pages with
        one key have the same bytes."""
        self.template = template
        self.values = values
        self.args = args
        self.entries = entries
        """The entries whose HTML the page shows (passed last to `values`)."""

    def make(self, html: Mapping[bytes, Rendered] | None = None) -> bytes:
        """Renders the page, with the HTML of its entries that have none from `html` (by
        body digest). Raises ConfigError when a publisher's template fails."""
        renderer, here = self.args[0], self.args[1]
        values = self.values(*self.args, with_html(self.entries, html or {}))
        made: bytes = renderer.make(self.template, here, values)
        return made


class _Renderer:
    """Plans every page: its key now (cheap: digests only), its template values and bytes
    when it is made (only when the key changed)."""

    def __init__(self, site: Site, config: Config, overrides: Mapping[str, str]) -> None:
        self.site = site
        self.config = config
        self.overrides = overrides
        self.env = make_environment(overrides)
        self.views = _Views(site, config)
        self.site_view = SiteView.of(config)
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
              values: Callable[..., dict[str, Any]], *args: Any,
              entries: tuple[Entry, ...] = ()) -> None:
        """Plan the page `here + name`: `values(self, here, *args, entries)` are its
        template's values."""
        self.plan[here + name] = PlannedPage(key, template, values, (self, here, *args),
                                             entries)

    def make(self, template: str, here: str, given: dict[str, Any]) -> bytes:
        given.setdefault("feeds", ())
        given.update(site=self.site_view, root=relative(here, ""),
                     page_url=self.config.base_url + quote(here),
                     stylesheet=relative(here, STYLESHEET), home=relative(here, ""),
                     tags_index=relative(here, f"{TAGS_FOLDER}/"),
                     opml=relative(here, OPML_FILE),
                     favicon=relative(here, favicon_file(self.config)))
        return render(self.env, template, given, self.overrides).encode("utf-8")

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
            self._plan(template, here, "index.html", key, _Renderer._values_listing, pager,
                       feed, tag, count, entries=tuple(chunk))

    def _values_listing(self, here: str, pager: Pager, feed: Feed, tag: Tag | None,
                        count: int | None, chunk: Sequence[Entry]) -> dict[str, Any]:
        views = self.views
        return {"entries": tuple(views.entry(e, here) for e in chunk), "pager": pager,
                "feeds": views.feed_links(feed, here),
                "tag": views.tag_view(tag, here, count) if tag else None}

    # -- the tags index ----------------------------------------------------------------------

    def tags_index(self) -> None:
        here = f"{TAGS_FOLDER}/"
        counts = tuple((tag, len(entries)) for tag, entries in self.site.tags)
        key = self._key("tags.html", here, (counts,), ())
        self._plan("tags.html", here, "index.html", key, _Renderer._values_tags, counts)

    def _values_tags(self, here: str, counts: tuple[tuple[Tag, int], ...],
                     _entries: tuple[Entry, ...]) -> dict[str, Any]:
        views = self.views
        return {"tags": tuple(views.tag_view(tag, here, count) for tag, count in counts),
                "feeds": views.feed_links(views.combined, here)}

    # -- briefs --------------------------------------------------------------------------------

    def brief(self, entry: Entry) -> None:
        here = brief_folder(entry, self.config)
        # As `_key`, without the repr (one page per brief); the digest covers the tags.
        digest = self.base_digest.copy()
        digest.update(b"brief.html\0" + here.encode("utf-8", "surrogatepass") + b"\0" +
                      entry.digest)
        self.plan[here + "index.html"] = PlannedPage(
            digest.digest(), "brief.html", _Renderer._values_brief, (self, here), (entry,))

    def _values_brief(self, here: str, entries: tuple[Entry, ...]) -> dict[str, Any]:
        views = self.views
        entry = entries[0]
        tags = tuple(views.tag_view(tag, here) for tag in entry.tags)
        combined_links = views.feed_links(views.combined, here)
        return {"entry": views.entry(entry, here), "tags": tags, "combined": combined_links,
                "feeds": tuple(chain(combined_links, *(tag.feeds for tag in tags)))}

    def _no_values(self, _here: str, _entries: tuple[Entry, ...]) -> dict[str, Any]:
        return {}

    def run(self) -> dict[str, PlannedPage]:
        self.listing("index.html", "", self.site.entries, self.views.combined)
        self.tags_index()
        for tag, entries in self.site.tags:
            self.listing("tag.html", f"{TAGS_FOLDER}/{tag.slug}/", entries,
                         self.views.tag_feeds[tag.slug], tag)
        for entry in self.site.entries:
            self.brief(entry)
        self._plan(STYLESHEET, "", STYLESHEET, self._key(STYLESHEET, "", (), ()),
                   _Renderer._no_values)
        return self.plan


def plan_pages(site: Site, config: Config,
               overrides: Mapping[str, str] | None = None) -> dict[str, PlannedPage]:
    """Every page of the site and its stylesheet, keyed and not rendered yet. Pure.

    `overrides` maps template names (`index.html`, `style.css`, ...) to the text of the
    publisher's own versions; a mistake in one raises ConfigError (naming the file and
    line) when a page made from it is made.
    """
    return _Renderer(site, config, overrides or {}).run()


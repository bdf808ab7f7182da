"""The web pages (the latest briefs, the tags, each tag's briefs, each brief's page, the
stylesheet) from the Jinja2 templates of `feeder/templates/` or the publisher's of the same
names (read by the caller: this module is pure). Links between pages are relative, so the site
works wherever it is served; feeds and canonical links are absolute, under `base_url`.
"""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import chain
from pathlib import PurePosixPath
from typing import Any, NamedTuple
from urllib.parse import quote, unquote, urlsplit

import jinja2
from markupsafe import Markup

from feeder.config import TEMPLATES_FOLDER, Config
from feeder.errors import ConfigError, Problem
from feeder.feeds import FORMATS, rfc3339
from feeder.media import local_sources, page_meta
from feeder.opml import OPML_FILE
from feeder.render import Rendered
from feeder.site import TAGS_FOLDER, Entry, Feed, Site, Tag, quote_path, with_html

STYLESHEET = "style.css"
NOT_FOUND = "404.html"
FORMAT_LABELS: dict[str, str] = {"atom.xml": "Atom", "rss.xml": "RSS", "feed.json": "JSON Feed"}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def long_date(moment: datetime) -> str:
    """`October 4, 2016`: English month names, the same on every machine (no locale)."""
    return f"{_MONTHS[moment.month - 1]} {moment.day}, {moment.year}"


# What the templates see: docs/TEMPLATES.md lists every field.
@dataclass(frozen=True, slots=True)
class FeedLink:
    title: str
    label: str
    type: str
    href: str
    url: str


@dataclass(frozen=True, slots=True)
class TagView:
    name: str
    slug: str
    href: str
    url: str
    count: int | None
    """None where a page does not show it, so that the page stays when a brief is added."""
    feeds: tuple[FeedLink, ...]


@dataclass(frozen=True, slots=True)
class EntryView:
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
    tags: tuple[TagView, ...]
    summary_html: Markup
    summary_text: str
    content_html: Markup
    meta: tuple[tuple[str, str, str], ...]
    """The page's `<meta>` for its lead image, as (attribute, its value, content)."""


@dataclass(frozen=True, slots=True)
class Pager:
    latest: bool
    number: int
    prev_href: str | None
    next_href: str | None


@dataclass(frozen=True, slots=True)
class SiteView:
    title: str
    description: str
    language: str
    base_url: str
    author: str


def favicon_file(config: Config) -> str:
    """`favicon.svg` (built in) or `favicon` with the suffix of the publisher's file."""
    return "favicon" + (PurePosixPath(config.favicon).suffix.lower() if config.favicon
                        else ".svg")


def relative(here: str, target: str) -> str:
    """The URL of `target` relative to a page in the folder `here` (both unquoted, under the
    site root): up to the root, then down, so that it depends on the depth of `here` alone."""
    return "../" * here.count("/") + quote_path(target) or "./"


def _common_values(config: Config, root: str, page_url: str) -> dict[str, Any]:
    """What every template gets; `root` leads from the page to the site's root."""
    home = root or "./"
    site = SiteView(config.title, config.description, config.language, config.base_url,
                    config.author.name if config.author else config.title)
    return {"site": site, "feeds": (), "page_url": page_url, "root": home,
            "home": home, "stylesheet": root + STYLESHEET, "tags_index": f"{root}{TAGS_FOLDER}/",
            "opml": root + OPML_FILE, "favicon": root + favicon_file(config)}


def brief_folder(entry: Entry, config: Config) -> str:
    """The folder of a brief's page under the output folder: `YYYY/MM/DD/<slug>/`."""
    return unquote(entry.url[len(config.base_url):])


def tag_feeds(site: Site) -> dict[str, Feed]:
    """The subscription feed (not an archive document) of each tag, by slug."""
    return {feed.tag.slug: feed for feed in site.feeds if not feed.archive and feed.tag}


def listing_pages(folder: str, entries: tuple[Entry, ...],
                  size: int) -> list[tuple[str, int, tuple[Entry, ...]]]:
    """A list of briefs (newest first) cut into pages, the latest first: (folder, number,
    briefs). Older pages, in `<folder>page/<n>/`, hold `size` briefs each, counted from the
    oldest; the latest holds the rest (`size` to `2 * size - 1` once there are that many), so
    that adding a brief changes the latest page only."""
    older = max(0, len(entries) // size - 1)
    pages = [(folder, older + 1, entries[:len(entries) - older * size])]
    for number in range(older, 0, -1):
        end = len(entries) - (number - 1) * size
        pages.append((f"{folder}page/{number}/", number, entries[end - size:end]))
    return pages


def _environment(overrides: Mapping[str, str]) -> jinja2.Environment:
    """A Jinja2 environment: the publisher's templates first (each named by its path, for
    error messages), then the package's."""
    def publishers(name: str) -> tuple[str, str, None] | None:
        return (overrides[name], f"{TEMPLATES_FOLDER}/{name}", None) if name in overrides else None

    loader = jinja2.ChoiceLoader([jinja2.FunctionLoader(publishers),
                                  jinja2.PackageLoader("feeder", "templates")])
    # auto_reload off: the templates are read before the build.
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             auto_reload=False)
    env.filters["long_date"] = long_date
    env.filters["rfc3339"] = rfc3339
    return env


def _render(env: jinja2.Environment, name: str, values: Mapping[str, Any],
            overrides: Mapping[str, str]) -> bytes:
    """The template `name` rendered; any error in one of the publisher's templates
    (`overrides`) is a ConfigError naming the file and line."""
    try:
        return env.get_template(name).render(values).encode()
    except Exception as exc:  # a publisher's template can fail in any way
        problem = _template_problem(exc, overrides)
        if problem is None:
            raise
        raise ConfigError([problem]) from None


def _template_problem(exc: BaseException, overrides: Mapping[str, str]) -> Problem | None:
    message = f"template error: {_describe(exc)}"
    prefix = f"{TEMPLATES_FOLDER}/"
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.name in overrides:
        return Problem(prefix + str(exc.name), exc.lineno, message)
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.startswith(prefix) and frame.filename[len(prefix):] in overrides:
            return Problem(frame.filename, frame.lineno, message)
    if overrides and isinstance(exc, jinja2.TemplateError | RecursionError):
        return Problem(TEMPLATES_FOLDER, None, message)
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, jinja2.TemplateNotFound):  # (or TemplatesNotFound: several names)
        return f"no template named {', '.join(map(repr, exc.templates))}"
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return exc.message or "syntax error"
    if isinstance(exc, RecursionError):
        return ("endless recursion (a template that includes or extends itself, or a macro "
                "that calls itself)")
    if isinstance(exc, jinja2.TemplateError):
        return str(exc.message or exc)
    return f"{type(exc).__name__}: {exc}"


class PlannedPage(NamedTuple):
    """A page not rendered yet: the key of everything it is made from (two pages with one key
    have the same bytes), the entries whose HTML it shows, and how to make it given the HTML
    (by body digest) of those that have none (ConfigError when a publisher's template fails).
    A named tuple: a site of 100,000 briefs plans over 100,000 pages."""

    key: bytes
    entries: tuple[Entry, ...]
    make: Callable[[Mapping[bytes, Rendered]], bytes]


class _Planner:
    """Plans every page: its key now (cheap: digests only), its values and bytes when it is
    made. What a page links to depends on its depth alone (see `relative`), so each feed's
    links and each tag's view are made once per depth."""

    def __init__(self, site: Site, config: Config, overrides: Mapping[str, str]) -> None:
        self.site = site
        self.config = config
        self.overrides = overrides
        self.env = _environment(overrides)
        self.tag_feeds = tag_feeds(site)
        self.combined = next(feed for feed in site.feeds if not feed.archive and feed.tag is None)
        self.base = hashlib.sha256(self._templates_digest() + repr(config).encode(
            "utf-8", "surrogatepass"))
        self.plan: dict[str, PlannedPage] = {}
        self._feed_links: dict[tuple[str, int], tuple[FeedLink, ...]] = {}
        self._tag_views: dict[tuple[str, int | None, int], TagView] = {}

    def _templates_digest(self) -> bytes:
        """A digest of the text of every template the pages can use."""
        digest = hashlib.sha256()
        package = jinja2.PackageLoader("feeder", "templates")
        for name in sorted(set(package.list_templates()) | set(self.overrides)):
            source = self.overrides[name] if name in self.overrides else \
                package.get_source(self.env, name)[0]
            digest.update(f"{name}\0{len(source)}\0{source}".encode("utf-8", "surrogatepass"))
        return digest.digest()

    def feed_links(self, feed: Feed, here: str) -> tuple[FeedLink, ...]:
        key = (feed.folder, here.count("/"))
        if key not in self._feed_links:
            self._feed_links[key] = tuple(
                FeedLink(f"{feed.title} ({FORMAT_LABELS[name]})", FORMAT_LABELS[name],
                         FORMATS[name], relative(here, feed.folder + name), feed.url(name))
                for name in self.config.feed_files)
        return self._feed_links[key]

    def tag_view(self, tag: Tag, here: str, count: int | None = None) -> TagView:
        key = (tag.slug, count, here.count("/"))
        if key not in self._tag_views:
            folder = f"{TAGS_FOLDER}/{tag.slug}/"
            self._tag_views[key] = TagView(
                tag.name, tag.slug, relative(here, folder), self.config.base_url + quote(folder),
                count, self.feed_links(self.tag_feeds[tag.slug], here))
        return self._tag_views[key]

    def entry_view(self, entry: Entry, here: str) -> EntryView:
        updated = entry.updated if entry.updated != entry.published else None
        base_url = self.config.base_url
        return EntryView(
            id=entry.id, title=entry.title, url=entry.url,
            href=relative(here, brief_folder(entry, self.config)),
            published=entry.published, published_iso=rfc3339(entry.published),
            published_text=long_date(entry.published), updated=updated,
            updated_iso=rfc3339(updated) if updated else "",
            updated_text=long_date(updated) if updated else "",
            author=entry.author, tags=tuple(self.tag_view(tag, here) for tag in entry.tags),
            # Sanitised by render.py (nh3), unless the publisher trusts every author
            # (allow_raw_html): embedded as it is.
            summary_html=Markup(local_sources(entry.summary_html, base_url, here)),  # noqa: S704
            summary_text=entry.summary_text,
            content_html=Markup(local_sources(entry.content_html, base_url, here)),  # noqa: S704
            meta=page_meta(entry.image) if entry.image else ())

    def add(self, here: str, template: str, values: Callable[..., dict[str, Any]], *args: Any,
            entries: tuple[Entry, ...] = (), name: str = "index.html") -> None:
        """Plan the page `here + name` from `template`, with `values(here, *args, entries)`:
        its key is made from the repr of `args` (small records) and the digests of `entries`."""
        digest = self.base.copy()
        digest.update(f"{template}\0{here}\0{args!r}".encode("utf-8", "surrogatepass"))
        digest.update(b"".join([entry.digest for entry in entries]))
        self.plan[here + name] = PlannedPage(digest.digest(), entries, partial(
            self._make, template, here, values, args, entries))

    def _make(self, template: str, here: str, values: Callable[..., dict[str, Any]],
              args: tuple[Any, ...], entries: tuple[Entry, ...],
              html: Mapping[bytes, Rendered]) -> bytes:
        given = _common_values(self.config, "../" * here.count("/"),
                               self.config.base_url + quote(here))
        given.update(values(here, *args, with_html(entries, html)))
        return _render(self.env, template, given, self.overrides)

    def listing(self, template: str, folder: str, entries: tuple[Entry, ...],
                tag: Tag | None = None) -> None:
        """The pages of a list of briefs (see `listing_pages`), each naming its feed in its
        head; a tag's pages show the tag, with its number of briefs on the latest page."""
        pages = listing_pages(folder, entries, self.config.max_entries)
        for index, (here, number, chunk) in enumerate(pages):
            newer = relative(here, pages[index - 1][0]) if index else None
            older = relative(here, pages[index + 1][0]) if index + 1 < len(pages) else None
            pager = Pager(index == 0, number, newer, older)
            count = None if index else len(entries)
            self.add(here, template, self._listing_values, pager, tag, count, entries=chunk)

    def _listing_values(self, here: str, pager: Pager, tag: Tag | None, count: int | None,
                        chunk: Sequence[Entry]) -> dict[str, Any]:
        feed = self.tag_feeds[tag.slug] if tag else self.combined
        return {"entries": tuple(self.entry_view(e, here) for e in chunk), "pager": pager,
                "feeds": self.feed_links(feed, here),
                "tag": self.tag_view(tag, here, count) if tag else None}

    def _tags_values(self, here: str, counts: tuple[tuple[Tag, int], ...],
                     _entries: tuple[Entry, ...]) -> dict[str, Any]:
        return {"tags": tuple(self.tag_view(tag, here, count) for tag, count in counts),
                "feeds": self.feed_links(self.combined, here)}

    def _brief_values(self, here: str, entries: tuple[Entry, ...]) -> dict[str, Any]:
        entry = entries[0]
        tags = tuple(self.tag_view(tag, here) for tag in entry.tags)
        combined = self.feed_links(self.combined, here)
        return {"entry": self.entry_view(entry, here), "tags": tags, "combined": combined,
                "feeds": tuple(chain(combined, *(tag.feeds for tag in tags)))}

    @staticmethod
    def _no_values(_here: str, _entries: tuple[Entry, ...]) -> dict[str, Any]:
        return {}

    def run(self) -> dict[str, PlannedPage]:
        self.listing("index.html", "", self.site.entries)
        counts = tuple((tag, len(entries)) for tag, entries in self.site.tags)
        self.add(f"{TAGS_FOLDER}/", "tags.html", self._tags_values, counts)
        for tag, entries in self.site.tags:
            self.listing("tag.html", f"{TAGS_FOLDER}/{tag.slug}/", entries, tag)
        for entry in self.site.entries:  # (the entry's digest covers its tags)
            self.add(brief_folder(entry, self.config), "brief.html", self._brief_values,
                     entries=(entry,))
        self.add("", STYLESHEET, self._no_values, name=STYLESHEET)
        return self.plan


def not_found_page(config: Config, templates: Mapping[str, str]) -> bytes:
    """`404.html` from the template of that name (which the publisher may replace): served
    at any address, so its links start at the root of base_url's host (`/` or `/sub/`)."""
    values = _common_values(config, urlsplit(config.base_url).path or "/", "")
    return _render(_environment(templates), NOT_FOUND, values, templates)


def plan_pages(site: Site, config: Config,
               overrides: Mapping[str, str] | None = None) -> dict[str, PlannedPage]:
    """Every page of the site and its stylesheet, keyed and not rendered yet. `overrides`
    maps template names (`index.html`, `style.css`, ...) to the publisher's versions."""
    return _Planner(site, config, overrides or {}).run()

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
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import quote, unquote

import jinja2
from markupsafe import Markup

from feeder.config import TEMPLATES_FOLDER, Config
from feeder.errors import ConfigError, Problem
from feeder.feeds import FORMATS, rfc3339
from feeder.opml import OPML_FILE
from feeder.site import TAGS_FOLDER, Entry, Feed, Site, Tag

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
    count: int
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
    summary_html: Markup
    content_html: Markup


@dataclass(frozen=True, slots=True)
class Pager:
    """Where a listing page sits among its pages."""

    number: int
    count: int
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
    unquoted, folders ending with `/`): `relative("tags/a/", "tags/b/")` is `../b/`."""
    here_parts = here.split("/")[:-1]
    target_parts = target.split("/")
    common = 0
    while (common < len(here_parts) and common < len(target_parts) - 1
           and here_parts[common] == target_parts[common]):
        common += 1
    path = "../" * (len(here_parts) - common) + "/".join(target_parts[common:])
    return quote(path) or "./"


def brief_folder(entry: Entry, config: Config) -> str:
    """The folder of a brief's page under the output folder: `YYYY/MM/DD/<slug>/`."""
    if not entry.url.startswith(config.base_url):
        raise ValueError(f"entry URL {entry.url!r} is not under {config.base_url!r}")
    return unquote(entry.url[len(config.base_url):])


def subscription_feeds(site: Site) -> tuple[Feed, ...]:
    """The feeds a reader subscribes to (not RFC 5005 archive documents): combined first."""
    return tuple(feed for feed in site.feeds if not feed.archive)


def _combined(site: Site) -> Feed:
    return next(feed for feed in subscription_feeds(site) if feed.tag is None)


def tag_feeds(site: Site) -> dict[str, Feed]:
    """The subscription feed of each tag, by slug."""
    return {feed.tag.slug: feed for feed in subscription_feeds(site) if feed.tag is not None}


class _Views:
    """Builds the template values for a page in the folder `here`."""

    def __init__(self, site: Site, config: Config) -> None:
        self.config = config
        self.tag_feeds = tag_feeds(site)
        self.counts = {tag.slug: len(entries) for tag, entries in site.tags}

    def feed_links(self, feed: Feed, here: str) -> tuple[FeedLink, ...]:
        return tuple(FeedLink(f"{feed.title} ({FORMAT_LABELS[name]})", FORMAT_LABELS[name],
                              media_type, relative(here, feed.folder + name), feed.url(name))
                     for name, media_type in FORMATS.items())

    def tag_link(self, tag: Tag, here: str) -> TagLink:
        folder = f"{TAGS_FOLDER}/{tag.slug}/"
        return TagLink(tag.name, tag.slug, relative(here, folder),
                       self.config.base_url + quote(folder))

    def tag_view(self, tag: Tag, here: str) -> TagView:
        link = self.tag_link(tag, here)
        return TagView(tag.name, tag.slug, link.href, link.url, self.counts[tag.slug],
                       self.feed_links(self.tag_feeds[tag.slug], here))

    def entry(self, entry: Entry, here: str) -> EntryView:
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
            # Sanitised by render.py (nh3) before it got here, unless the publisher trusts
            # every author (allow_raw_html): embedded as it is.
            summary_html=Markup(entry.summary_html),  # noqa: S704
            content_html=Markup(entry.content_html),  # noqa: S704
        )


def _pages_of(entries: Sequence[Entry], size: int) -> list[Sequence[Entry]]:
    return [entries[start:start + size] for start in range(0, len(entries), size)] or [()]


def _page_folder(folder: str, number: int) -> str:
    return folder if number == 1 else f"{folder}{PAGE_FOLDER}/{number}/"


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
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["long_date"] = long_date
    env.filters["rfc3339"] = rfc3339
    return env


def _template_problem(exc: jinja2.TemplateError, overrides: Mapping[str, str]) -> Problem | None:
    """Where in the publisher's templates `exc` happened, or None when it did not."""
    prefix = f"{TEMPLATES_FOLDER}/"
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.name is not None \
            and exc.name in overrides:
        return Problem(prefix + exc.name, exc.lineno, f"template error: {exc.message}")
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        name = frame.filename.removeprefix(prefix)
        if frame.filename.startswith(prefix) and name in overrides:
            return Problem(frame.filename, frame.lineno, f"template error: {exc}")
    if overrides:  # e.g. an override that includes a template that does not exist
        return Problem(TEMPLATES_FOLDER, None, f"template error: {exc}")
    return None


@dataclass(frozen=True, slots=True)
class PlannedPage:
    """A page not rendered yet: the key of everything it is made from, and how to make it."""

    key: bytes
    """SHA-256 of the templates, the template's name and every value it is given: two
    pages with one key have the same bytes."""
    make: Callable[[], bytes]
    """Renders the page. Raises ConfigError when a publisher's template fails."""


class _Renderer:
    def __init__(self, site: Site, config: Config, overrides: Mapping[str, str]) -> None:
        self.site = site
        self.config = config
        self.overrides = overrides
        self.env = make_environment(overrides)
        self.views = _Views(site, config)
        author = config.author.name if config.author else config.title
        self.site_view = SiteView(config.title, config.description, config.language,
                                  config.base_url, author)
        self.templates_digest = self._templates_digest()
        self.plan: dict[str, PlannedPage] = {}
        self.template_of: dict[str, str] = {}

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

    def render(self, template: str, here: str, name: str = "index.html",
               **values: Any) -> None:
        values.setdefault("feeds", ())
        values.update(site=self.site_view, root=relative(here, ""),
                      page_url=self.config.base_url + quote(here),
                      stylesheet=relative(here, STYLESHEET), home=relative(here, ""),
                      tags_index=relative(here, f"{TAGS_FOLDER}/"),
                      opml=relative(here, OPML_FILE))
        # Every value is a frozen dataclass, a tuple or text, so its repr is all of it.
        key = hashlib.sha256(self.templates_digest + repr(
            (template, sorted(values.items()))).encode("utf-8", "surrogatepass")).digest()
        self.plan[here + name] = PlannedPage(key, partial(self._make, template, values))
        self.template_of[here + name] = template

    def _make(self, template: str, values: dict[str, Any]) -> bytes:
        try:
            return self.env.get_template(template).render(values).encode("utf-8")
        except jinja2.TemplateError as exc:
            problem = _template_problem(exc, self.overrides)
            if problem is None:
                raise  # the package's own templates are broken: a bug
            raise ConfigError([problem]) from None

    def listing(self, template: str, folder: str, entries: Sequence[Entry], feed: Feed,
                tag: Tag | None = None) -> None:
        """The pages of a list of briefs: `folder` first, then `folder/page/2/`, ...

        Each names `feed` in its head; a tag's pages also get the tag (`tag`).
        """
        pages = _pages_of(entries, self.config.max_entries)
        for number, chunk in enumerate(pages, start=1):
            here = _page_folder(folder, number)
            newer = relative(here, _page_folder(folder, number - 1)) if number > 1 else None
            older = (relative(here, _page_folder(folder, number + 1))
                     if number < len(pages) else None)
            self.render(template, here,
                        entries=tuple(self.views.entry(e, here) for e in chunk),
                        pager=Pager(number, len(pages), newer, older),
                        feeds=self.views.feed_links(feed, here),
                        tag=self.views.tag_view(tag, here) if tag else None)

    def run(self) -> dict[str, PlannedPage]:
        views = self.views
        combined = _combined(self.site)
        self.listing("index.html", "", self.site.entries, combined)
        here = f"{TAGS_FOLDER}/"
        self.render("tags.html", here,
                    tags=tuple(views.tag_view(tag, here) for tag, _ in self.site.tags),
                    feeds=views.feed_links(combined, here))
        for tag, entries in self.site.tags:
            self.listing("tag.html", f"{TAGS_FOLDER}/{tag.slug}/", entries,
                         views.tag_feeds[tag.slug], tag)
        for entry in self.site.entries:
            here = brief_folder(entry, self.config)
            tags = tuple(views.tag_view(tag, here) for tag in entry.tags)
            combined_links = views.feed_links(combined, here)
            self.render("brief.html", here, entry=views.entry(entry, here), tags=tags,
                        combined=combined_links,
                        feeds=_chain(combined_links, *(tag.feeds for tag in tags)))
        self.render(STYLESHEET, "", STYLESHEET)
        if self.overrides:
            self._try_each_template()
        return self.plan

    def _try_each_template(self) -> None:
        """Render the first page of each template now, so that a broken template of the
        publisher's is reported before anything is written."""
        tried: set[str] = set()
        for rel, page in self.plan.items():
            template = self.template_of[rel]
            if template not in tried:
                tried.add(template)
                data = page.make()
                self.plan[rel] = PlannedPage(page.key, partial(bytes, data))


def _chain(*groups: Iterable[FeedLink]) -> tuple[FeedLink, ...]:
    return tuple(link for group in groups for link in group)


def plan_pages(site: Site, config: Config,
               overrides: Mapping[str, str] | None = None) -> dict[str, PlannedPage]:
    """Every page of the site and its stylesheet, keyed and not rendered yet. Pure.

    `overrides` maps template names (`index.html`, `style.css`, ...) to the text of the
    publisher's own versions; each of those templates is tried on one page here, so that
    most mistakes in them raise ConfigError (naming the file and line) before any page is
    made.
    """
    return _Renderer(site, config, overrides or {}).run()


def render_pages(site: Site, config: Config,
                 overrides: Mapping[str, str] | None = None) -> dict[str, bytes]:
    """Every page of the site and its stylesheet: relative POSIX path -> bytes. Pure.

    Raises ConfigError, naming the file and line, when a publisher's template is broken.
    """
    return {rel: page.make() for rel, page in plan_pages(site, config, overrides).items()}

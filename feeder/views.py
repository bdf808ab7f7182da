"""What the page templates see: plain records of the site's feeds, tags and briefs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup

from feeder.config import Config
from feeder.render import Rendered

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def long_date(moment: datetime) -> str:
    """`October 4, 2016`: English month names, the same on every machine (no locale)."""
    return f"{_MONTHS[moment.month - 1]} {moment.day}, {moment.year}"


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
    html: Rendered = field(repr=False)
    meta: tuple[tuple[str, str, str], ...] = ()
    """The page's `<meta>` for its lead image, as (attribute, its value, content)."""

    # Sanitised by render.py (nh3) before it got here, unless the publisher trusts every
    # author (allow_raw_html): embedded as it is.
    @property
    def summary_html(self) -> Markup:
        return Markup(self.html.summary_html)  # noqa: S704

    @property
    def summary_text(self) -> str:
        """The short version as plain text, on one line."""
        return self.html.summary_text

    @property
    def content_html(self) -> Markup:
        return Markup(self.html.content_html)  # noqa: S704


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

    @classmethod
    def of(cls, config: Config) -> SiteView:
        author = config.author.name if config.author else config.title
        return cls(config.title, config.description, config.language, config.base_url, author)

"""The site's other files: `sitemap.xml`, `robots.txt`, `404.html`, the favicon and the files
of `static/` (published as they are: one there replaces feeder's robots.txt, 404.html or
favicon; one where a page or feed goes is an error). Pure: `extra_outputs` plans them all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from urllib.parse import quote
from xml.sax.saxutils import escape

from feeder.config import Config
from feeder.errors import ConfigError, Problem
from feeder.feeds import rfc3339
from feeder.pages import NOT_FOUND, brief_folder, favicon_file, listing_pages, not_found_page
from feeder.site import TAGS_FOLDER, Entry, Site
from feeder.static import STATIC_FOLDER, StaticFiles

SITEMAP = "sitemap.xml"
ROBOTS = "robots.txt"
SITEMAP_URLS = 50_000
"""The most URLs one sitemap may list (sitemaps.org); more go to `sitemap-<n>.xml` files
listed by a sitemap index in `sitemap.xml`."""
DEFAULT_ICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    b'<rect width="16" height="16" rx="3" fill="#9e2a2b"/>'
    b'<circle cx="4.5" cy="11.5" r="1.5" fill="#fff"/>'
    b'<path d="M3 7a6 6 0 0 1 6 6M3 3a10 10 0 0 1 10 10" fill="none" stroke="#fff" '
    b'stroke-width="2"/></svg>\n')
"""The favicon when the setting `favicon` names none: a feed icon."""


def robots_txt(config: Config) -> bytes:
    """Lets every crawler in and names the sitemap. (Crawlers read robots.txt at the root of
    a host only: under a sub-folder `base_url` it is published but not read.)"""
    return f"User-agent: *\nDisallow:\n\nSitemap: {config.base_url}{SITEMAP}\n".encode()


def _listings(site: Site) -> list[tuple[str, Sequence[Entry]]]:
    """The folder and the briefs of each listing: the home page's, then each tag's."""
    return [("", site.entries),
            *((f"{TAGS_FOLDER}/{tag.slug}/", entries) for tag, entries in site.tags)]


def page_dates(site: Site, config: Config) -> dict[str, datetime]:
    """Every page's folder (`""` is the home page) with the newest `updated` of the briefs it
    shows, in the order of the sitemap."""
    dates: dict[str, datetime] = {}
    for folder, entries in _listings(site):
        for here, _, chunk in listing_pages(folder, entries, config.max_entries):
            dates[here] = max(entry.updated for entry in chunk)
        if not folder:  # the tags index comes after the home page's listing
            dates[f"{TAGS_FOLDER}/"] = max(entry.updated for entry in entries)
    for entry in site.entries:
        dates[brief_folder(entry, config)] = entry.updated
    return dates


def page_count(site: Site, config: Config) -> int:
    """How many pages `page_dates` lists, counted without making them."""
    size = config.max_entries
    listings = sum(max(0, len(entries) // size - 1) + 1 for _, entries in _listings(site))
    return listings + 1 + len(site.entries)


def _xml(root: str, items: Iterable[tuple[str, datetime]], item: str) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<{root} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    lines += [f"<{item}><loc>{escape(url)}</loc><lastmod>{rfc3339(moment)}</lastmod></{item}>"
              for url, moment in items]
    lines.append(f"</{root}>\n")
    return "\n".join(lines).encode()


class _Sitemap:
    """The sitemap's files (past SITEMAP_URLS pages, `sitemap.xml` is an index of
    `sitemap-<n>.xml` files), named before they are made; the URLs are listed once."""

    def __init__(self, site: Site, config: Config) -> None:
        self.site, self.config = site, config
        self.urls: list[tuple[str, datetime]] | None = None

    def names(self) -> list[str]:
        parts = -(-page_count(self.site, self.config) // SITEMAP_URLS)
        return [SITEMAP, *(f"sitemap-{n}.xml" for n in range(1, parts + 1) if parts > 1)]

    def make(self, name: str) -> bytes:
        if self.urls is None:
            self.urls = [(self.config.base_url + quote(folder), moment)
                         for folder, moment in page_dates(self.site, self.config).items()]
        urls = self.urls
        if len(urls) <= SITEMAP_URLS:
            return _xml("urlset", urls, "url")
        parts = [urls[at:at + SITEMAP_URLS] for at in range(0, len(urls), SITEMAP_URLS)]
        if name != SITEMAP:
            return _xml("urlset", parts[int(name[8:-4]) - 1], "url")
        return _xml("sitemapindex", [(f"{self.config.base_url}sitemap-{n}.xml",
                                      max(moment for _, moment in part))
                                     for n, part in enumerate(parts, 1)], "sitemap")


def sitemap_files(site: Site, config: Config) -> dict[str, bytes]:
    """`sitemap.xml` (every page with the newest date of the briefs on it), and its parts."""
    sitemap = _Sitemap(site, config)
    return {name: sitemap.make(name) for name in sitemap.names()}


def _same(data: bytes) -> bytes:
    return data


@dataclass(frozen=True, slots=True)
class Extra:
    """A planned file of this module's: the key of what it is made from, and how to make it."""

    key: bytes | None
    made: Callable[[], bytes]


def _key(*parts: object, entries: Iterable[Entry] = ()) -> bytes:
    digest = hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass"))
    digest.update(b"".join([entry.digest for entry in entries]))
    return digest.digest()[:20]


def extra_outputs(site: Site, config: Config, templates: Mapping[str, str],
                  assets: StaticFiles, planned: Iterable[str]) -> dict[str, Extra]:
    """Every file of this module's, planned: the sitemap, robots.txt, 404.html, the favicon,
    then `static/` (whose files replace any of those of the same name). Raises ConfigError
    when a file of `static/` would replace one of `planned` (a page, a feed)."""
    clashes = sorted(set(assets.static) & set(planned))
    if clashes:
        raise ConfigError([Problem(f"{STATIC_FOLDER}/{rel}", None,
                                   "feeder makes a file there (a page, a feed or feeds.opml): "
                                   "rename or move this one") for rel in clashes])
    sitemap = _Sitemap(site, config)
    files = {name: Extra(_key(name, config.base_url, config.max_entries, entries=site.entries),
                         partial(sitemap.make, name)) for name in sitemap.names()}
    files[NOT_FOUND] = Extra(_key(NOT_FOUND, config, sorted(templates.items())),
                             partial(not_found_page, config, templates))
    icon = assets.favicon if assets.favicon is not None else DEFAULT_ICON
    for rel, data in {ROBOTS: robots_txt(config), favicon_file(config): icon,
                      **assets.static}.items():
        files[rel] = Extra(hashlib.sha256(data).digest()[:20], partial(_same, data))
    return files

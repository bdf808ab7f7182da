"""The site's other files: `sitemap.xml`, `robots.txt`, `404.html`, the favicon and the files
of `static/` (published as they are: one there replaces feeder's robots.txt, 404.html or
favicon; one where a page or feed goes is an error). Pure: `extra_outputs` plans them all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Protocol
from urllib.parse import quote
from xml.sax.saxutils import escape

from feeder.config import Config
from feeder.errors import ConfigError, Problem
from feeder.feeds import rfc3339
from feeder.pages import NOT_FOUND, favicon_file, not_found_page
from feeder.site import Entry, Site
from feeder.static import STATIC_FOLDER, StaticFiles

_PAGE_FILE = "index.html"
SITEMAP = "sitemap.xml"
ROBOTS = "robots.txt"
SITEMAP_URLS = 50_000
"""The most URLs one sitemap may list (sitemaps.org)."""
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


class _Planned(Protocol):
    @property
    def entries(self) -> tuple[Entry, ...]: ...


def _xml(root: str, items: Iterable[tuple[str, datetime]], item: str) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<{root} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    lines += [f"<{item}><loc>{escape(url)}</loc><lastmod>{rfc3339(moment)}</lastmod></{item}>"
              for url, moment in items]
    lines.append(f"</{root}>\n")
    return "\n".join(lines).encode()


class _Sitemap:
    """The sitemap of the pages planned so far (every `index.html`, in the order planned), with
    the newest date of the briefs on each (of every brief on the tags index). Past SITEMAP_URLS
    pages, `sitemap.xml` is an index of `sitemap-<n>.xml` files; the URLs are listed once."""

    def __init__(self, site: Site, config: Config, planned: Mapping[str, _Planned]) -> None:
        self.base_url = config.base_url
        self.newest = max(entry.updated for entry in site.entries)
        self.pages = [(rel[:-len(_PAGE_FILE)], output) for rel, output in planned.items()
                      if rel == _PAGE_FILE or rel.endswith(f"/{_PAGE_FILE}")]
        self.urls: list[tuple[str, datetime]] | None = None

    def names(self) -> list[str]:
        parts = -(-len(self.pages) // SITEMAP_URLS)
        return [SITEMAP, *(f"sitemap-{n}.xml" for n in range(1, parts + 1) if parts > 1)]

    def make(self, name: str) -> bytes:
        if self.urls is None:
            self.urls = [(self.base_url + quote(folder),
                          max((entry.updated for entry in output.entries), default=self.newest))
                         for folder, output in self.pages]
        urls = self.urls
        if len(urls) <= SITEMAP_URLS:
            return _xml("urlset", urls, "url")
        parts = [urls[at:at + SITEMAP_URLS] for at in range(0, len(urls), SITEMAP_URLS)]
        if name != SITEMAP:
            return _xml("urlset", parts[int(name[8:-4]) - 1], "url")
        return _xml("sitemapindex", [(f"{self.base_url}sitemap-{n}.xml",
                                      max(moment for _, moment in part))
                                     for n, part in enumerate(parts, 1)], "sitemap")


def _same(data: bytes) -> bytes:
    return data


@dataclass(frozen=True, slots=True)
class Extra:
    """A planned file of this module's: the key of what it is made from, and how to make it."""

    key: bytes
    made: Callable[[], bytes]


def _key(*parts: object, entries: Iterable[Entry] = ()) -> bytes:
    digest = hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass"))
    digest.update(b"".join([entry.digest for entry in entries]))
    return digest.digest()[:20]


def extra_outputs(site: Site, config: Config, templates: Mapping[str, str],
                  assets: StaticFiles, planned: Mapping[str, _Planned]) -> dict[str, Extra]:
    """Every file of this module's, planned: the sitemap, robots.txt, 404.html, the favicon,
    then `static/` (whose files replace any of those of the same name). Raises ConfigError
    when a file of `static/` would replace one of `planned` (a page, a feed)."""
    clashes = sorted(set(assets.static) & set(planned))
    if clashes:
        raise ConfigError([Problem(f"{STATIC_FOLDER}/{rel}", None,
                                   "feeder makes a file there (a page, a feed or feeds.opml): "
                                   "rename or move this one") for rel in clashes])
    sitemap = _Sitemap(site, config, planned)
    files = {name: Extra(_key(name, config.base_url, config.max_entries, entries=site.entries),
                         partial(sitemap.make, name)) for name in sitemap.names()}
    files[NOT_FOUND] = Extra(_key(NOT_FOUND, config, sorted(templates.items())),
                             partial(not_found_page, config, templates))
    icon = assets.favicon if assets.favicon is not None else DEFAULT_ICON
    for rel, data in {ROBOTS: robots_txt(config), favicon_file(config): icon,
                      **assets.static}.items():
        files[rel] = Extra(hashlib.sha256(data).digest()[:20], partial(_same, data))
    return files

"""`feeder tags`: every tag with its number of briefs, its slug and its feed URLs, as a table
for people or JSON for scripts."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from feeder.config import FEED_FORMATS, Config
from feeder.pages import FORMAT_LABELS, tag_feeds
from feeder.site import Site

JSON_KEYS: dict[str, str] = {file: name for name, file in FEED_FORMATS.items()}
"""The key of each feed file in `feeder tags --json`: `atom`, `rss` or `json`."""


@dataclass(frozen=True, slots=True)
class TagInfo:
    name: str
    slug: str
    count: int
    page_url: str
    feeds: tuple[tuple[str, str], ...]
    """(file name, absolute URL) of each published format."""


def tag_infos(site: Site | None, config: Config) -> tuple[TagInfo, ...]:
    """Every tag of `site` (None: nothing published), sorted by slug, with its feeds."""
    if site is None:
        return ()
    feeds = tag_feeds(site)
    return tuple(TagInfo(tag.name, tag.slug, len(entries), feeds[tag.slug].home_url,
                         tuple((name, feeds[tag.slug].url(name)) for name in config.feed_files))
                 for tag, entries in site.tags)


def tags_json(infos: Sequence[TagInfo]) -> str:
    """A JSON array, one object per tag: name, slug, count, page and feeds (by format)."""
    data = [{"name": info.name, "slug": info.slug, "count": info.count, "page": info.page_url,
             "feeds": {JSON_KEYS[name]: url for name, url in info.feeds}} for info in infos]
    return json.dumps(data, ensure_ascii=False, indent=2)


def _width(text: str) -> int:
    """Columns `text` takes on a terminal: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def tags_table(infos: Sequence[TagInfo]) -> str:
    """A table for the terminal: one block per tag, a row for each of its feeds."""
    if not infos:
        return "no tags: no published brief has a tag"
    header = ("TAG", "BRIEFS", "SLUG", "FORMAT", "FEED URL")
    rows: list[tuple[str, ...]] = []
    for info in infos:
        for index, (name, url) in enumerate(info.feeds):
            tag = (info.name, str(info.count), info.slug) if index == 0 else ("", "", "")
            rows.append((*tag, FORMAT_LABELS[name], url))
    widths = [max(_width(row[col]) for row in (header, *rows)) for col in range(len(header))]
    lines = []
    for row in (header, *rows):
        cells = [_pad(row[0], widths[0]), row[1].rjust(widths[1]), _pad(row[2], widths[2]),
                 _pad(row[3], widths[3]), row[4]]
        lines.append("  ".join(cells).rstrip())
    lines.append(f"{len(infos)} tag{'' if len(infos) == 1 else 's'}")
    return "\n".join(lines)

"""What each format says of a brief's lead image (`LeadImage`). Pure.

Atom and RSS carry Media RSS `media:content` and `media:thumbnail`, where readers take a
thumbnail from (no `media:description`: feedparser reads it as the summary). An enclosure says
"this entry *is* this file", what podcast apps download: only when image_enclosures asks.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

from feeder.attachments import LeadImage

MEDIA_NS = "http://search.yahoo.com/mrss/"
EXTENSION = "lead_image"
"""The name of feeder's feedgen extension (an attribute of each entry)."""


def _known(**values: str | int | None) -> dict[str, str]:
    return {key: str(value) for key, value in values.items() if value is not None}


class _LeadImageFeed(BaseExtension):  # type: ignore[misc]
    def extend_ns(self) -> dict[str, str]:
        return {"media": MEDIA_NS}


class _LeadImageEntry(BaseEntryExtension):  # type: ignore[misc]
    def __init__(self) -> None:
        self.lead: LeadImage | None = None
        self.enclosure = False

    def _media(self, entry: Any) -> LeadImage | None:
        lead = self.lead
        if lead is not None:
            size = _known(width=lead.width, height=lead.height)
            etree.SubElement(entry, f"{{{MEDIA_NS}}}content", _known(
                url=lead.url, medium="image", type=lead.media_type, fileSize=lead.size) | size)
            etree.SubElement(entry, f"{{{MEDIA_NS}}}thumbnail", {"url": lead.url} | size)
        return lead if self.enclosure else None

    def extend_atom(self, entry: Any) -> Any:
        lead = self._media(entry)
        if lead is not None:  # (in feedgen's own Atom elements: no namespace of their own)
            etree.SubElement(entry, "link", _known(rel="enclosure", href=lead.url,
                                                   type=lead.media_type, length=lead.size))
        return entry

    def extend_rss(self, item: Any) -> Any:
        lead = self._media(item)
        if lead is not None:  # RSS requires the length: 0 when unknown (RSS Best Practices)
            etree.SubElement(item, "enclosure", url=lead.url, length=str(lead.size or 0),
                             type=lead.media_type or "application/octet-stream")
        return item


def load_extension(fg: Any) -> None:
    """Let the entries of the feedgen feed `fg` carry lead images (`add_to_entry`). (feedgen's
    own enclosures lose their `rel` in Atom, becoming a second alternate link.)"""
    fg.register_extension(EXTENSION, _LeadImageFeed, _LeadImageEntry)


def add_to_entry(fe: Any, lead: LeadImage, *, enclosure: bool = False) -> None:
    """Give an entry of a feed that loaded the extension its lead image (and enclosure)."""
    extension = getattr(fe, EXTENSION)
    extension.lead = lead
    extension.enclosure = enclosure


def json_feed_fields(lead: LeadImage, *, enclosure: bool = False) -> dict[str, Any]:
    """The fields a JSON Feed item gets for its lead image."""
    fields: dict[str, Any] = {"image": lead.url}
    if enclosure and lead.media_type:
        attachment = {"url": lead.url, "mime_type": lead.media_type}
        fields["attachments"] = [attachment | ({"size_in_bytes": lead.size}
                                               if lead.size is not None else {})]
    return fields


def page_meta(lead: LeadImage) -> tuple[tuple[str, str, str], ...]:
    """The `<meta>` elements of the lead image on a brief's page, as (attribute, its value,
    content): `("property", "og:image", url)` is `<meta property="og:image" content=url>`."""
    og = _known(type=lead.media_type, width=lead.width, height=lead.height, alt=lead.alt or None)
    twitter = _known(alt=lead.alt or None)
    return (("property", "og:image", lead.url),
            *(("property", f"og:image:{key}", value) for key, value in og.items()),
            ("name", "twitter:image", lead.url),
            *(("name", f"twitter:image:{key}", value) for key, value in twitter.items()))


_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC = re.compile(r"""\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_SIZED = re.compile(r"\b(?:width|height)\s*=", re.IGNORECASE)


def with_sizes(fragment: str, sizes: Mapping[str, tuple[int, int]]) -> str:
    """HTML with `width` and `height` on each `<img>` whose `src` (an absolute URL) is in
    `sizes` and that has neither, so that the browser reserves its space before it loads.
    Stylesheets keep such images fluid with `max-width: 100%; height: auto`."""
    if not sizes or "<img" not in fragment.lower():
        return fragment

    def sized(match: re.Match[str]) -> str:
        tag = match.group(0)
        src = _SRC.search(tag)
        if src is None or _SIZED.search(tag):
            return tag
        size = sizes.get(html.unescape(src[1] if src[1] is not None else src[2]))
        if size is None:
            return tag
        end = len(tag) - (2 if tag.endswith("/>") else 1)
        return f'{tag[:end].rstrip()} width="{size[0]}" height="{size[1]}"{tag[end:]}'

    return _IMG.sub(sized, fragment)


def local_sources(fragment: str, base_url: str, here: str) -> str:
    """`fragment` with its pictures and media from the site itself (`src` under `base_url`)
    relative to the page in the folder `here`, as the links between pages are: so that they
    show wherever the site is served (`feeder serve`); the feeds keep absolute URLs."""
    return fragment.replace(f' src="{html.escape(base_url)}',
                            f' src="{"../" * here.count("/") or "./"}')

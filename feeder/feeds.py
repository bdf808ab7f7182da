"""Feed documents: Atom 1.0, RSS 2.0 (through feedgen) and JSON Feed 1.1. Pure: a `Feed`
(its entries with their HTML) in, bytes out.

feedgen's defaults are not trusted: it reads the clock, prepends entries and takes the RSS
<link> from the last link added. So every date comes from the entries, entries are appended
in order, the self link goes before the alternate one, and the generator has no version (a
new version would rewrite every feed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from feeder import HOME
from feeder.config import Author, Config
from feeder.media import add_to_entry, json_feed_fields, load_extension
from feeder.site import Entry, Feed

HTML_TYPE = "text/html"
FH_NS = "http://purl.org/syndication/history/1.0"
FORMATS: dict[str, str] = {"atom.xml": "application/atom+xml", "rss.xml": "application/rss+xml",
                           "feed.json": "application/feed+json"}
"""Every feed file feeder can write, with its media type."""


def _feed_author(config: Config) -> Author:
    return config.author or Author(config.title)


class _History(BaseExtension):  # type: ignore[misc]
    """What feedgen cannot write: hub and archive links in RSS, and RFC 5005's fh:archive."""

    def __init__(self, feed: Feed, links: list[tuple[str, str]]) -> None:
        self.feed = feed
        self.links = links

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH_NS} if self.feed.archive else {}

    def extend_atom(self, root: Any) -> Any:
        if self.feed.archive:
            etree.SubElement(root, f"{{{FH_NS}}}archive")
        return root

    def extend_rss(self, root: Any) -> Any:
        for rel, href in self.links:
            etree.SubElement(root[0], "{http://www.w3.org/2005/Atom}link", href=href, rel=rel)
        self.extend_atom(root[0])  # fh:archive, in the channel
        return root


def _generator(feed: Feed, config: Config, name: str, *, rss: bool) -> Any:
    fg = FeedGenerator()
    fg.id(feed.home_url)
    fg.title(feed.title)
    fg.subtitle(feed.subtitle)
    # Self first, alternate last: feedgen's RSS <link> is the last link added.
    fg.link(href=feed.url(name), rel="self", type=FORMATS[name])
    links = [("hub", hub) for hub in feed.hubs]  # and RFC 5005's:
    links += [(rel, feed.base_url + quote(folder) + name) for rel, folder in feed.archive_links]
    if not rss:
        for rel, href in links:
            fg.link(href=href, rel=rel)
    fg.link(href=feed.home_url, rel="alternate", type=HTML_TYPE)
    author = _feed_author(config)
    fg.author({k: v for k, v in (("name", author.name), ("email", author.email),
                                  ("uri", author.uri)) if v})
    if author.email:
        fg.managingEditor(f"{author.email} ({author.name})")
    fg.language(config.language)
    fg.generator("feeder", uri=HOME)
    fg.updated(feed.updated)  # also the RSS lastBuildDate: from the content, not the clock
    if links or feed.archive:
        history = _History(feed, links if rss else [])
        fg.register_extension("history", lambda: history, None, atom=not rss, rss=rss)
    if any(entry.image for entry in feed.entries):
        load_extension(fg)
    return fg


def _add_entry(fg: Any, entry: Entry, scheme: str, *, dc: bool, byline: str | None = None,
               enclosure: bool = False) -> None:
    fe = fg.add_entry(order="append")
    fe.id(entry.id)
    fe.guid(entry.id, permalink=entry.id.startswith(("http://", "https://")))
    fe.title(entry.title)
    fe.link(href=entry.url, rel="alternate", type=HTML_TYPE)
    fe.published(entry.published)
    fe.updated(entry.updated)
    if entry.author:
        fe.author({"name": entry.author})
        if dc:
            fe.dc.dc_creator(entry.author)
    elif byline:
        fe.author({"name": byline})
    if entry.tags:  # in one call: feedgen goes through all of an entry's tags on each
        fe.category([{"term": tag.slug, "label": tag.name, "scheme": scheme}
                     for tag in entry.tags])
    # Summary: the short version (RSS <description>); content: the full text. Both HTML.
    fe.content(entry.content_html, type="html")
    fe.summary(entry.summary_html, type="html")
    if entry.image is not None:  # Media RSS (and an enclosure when asked): feeder.media
        add_to_entry(fe, entry.image, enclosure=enclosure)


def atom_bytes(feed: Feed, config: Config) -> bytes:
    """The feed as an Atom 1.0 document (RFC 4287)."""
    fg = _generator(feed, config, "atom.xml", rss=False)
    byline = _feed_author(config).name  # readers show an entry's author, not the feed's
    for entry in feed.entries:
        _add_entry(fg, entry, feed.tag_scheme, dc=False, byline=byline,
                   enclosure=config.image_enclosures)
    return bytes(fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)) + b"\n"


def rss_bytes(feed: Feed, config: Config) -> bytes:
    """The feed as an RSS 2.0 document, with atom:link rel="self" and content:encoded."""
    fg = _generator(feed, config, "rss.xml", rss=True)
    if any(entry.author for entry in feed.entries):  # dc:creator for each entry's author
        fg.load_extension("dc", atom=False, rss=True)
    for entry in feed.entries:
        _add_entry(fg, entry, feed.tag_scheme, dc=bool(entry.author),
                   enclosure=config.image_enclosures)
    data = bytes(fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True))
    return _PLAIN_TEXT_ELEMENT.sub(_hex_references, data) + b"\n"


# The RSS Advisory Board's profile: in elements that hold plain text, write "&" and "<" as
# hexadecimal character references (readers that decode entities twice then show them right).
_PLAIN_TEXT_ELEMENT = re.compile(rb"(<(?:title|category|dc:creator)(?: [^>]*)?>)([^<]*)(</)")


def _hex_references(match: re.Match[bytes]) -> bytes:
    text = match.group(2).replace(b"&amp;", b"&#x26;").replace(b"&lt;", b"&#x3C;")
    return match.group(1) + text + match.group(3)


def rfc3339(moment: datetime) -> str:
    """`moment` in RFC 3339, in its own zone; in UTC when the zone's offset has seconds
    (an old local mean time, such as New York's -04:56:02 before 1883), which RFC 3339
    cannot write."""
    offset = moment.utcoffset()
    if offset is not None and offset.total_seconds() % 60:
        moment = moment.astimezone(timezone.utc)
    return moment.isoformat()


def json_feed_bytes(feed: Feed, config: Config) -> bytes:
    """The feed as a JSON Feed 1.1 document; `summary` is the short version as plain text."""
    author = _feed_author(config)
    # JSON Feed authors have no email: a mailto: URL is how the spec says to give one.
    url = author.uri or (f"mailto:{author.email}" if author.email else None)
    data: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.title,
        "home_page_url": feed.home_url,
        "feed_url": feed.url("feed.json"),
        "description": feed.subtitle,
        "language": config.language,
        "authors": [{"name": author.name, **({"url": url} if url else {})}],
    }
    if feed.hubs:
        data["hubs"] = [{"type": "WebSub", "url": hub} for hub in feed.hubs]
    next_url = dict(feed.archive_links).get("prev-archive")
    if next_url is not None:  # JSON Feed pages towards older items with next_url
        data["next_url"] = feed.base_url + quote(next_url) + "feed.json"
    if feed.archive:
        data["expired"] = True
    # One item a line: json's C encoder writes each (with `indent`, the pure-Python one
    # would write everything, several times slower).
    head = json.dumps(data, ensure_ascii=False, indent=2)[:-2]  # without "\n}"
    items = b",\n".join(
        f"    {json.dumps(_json_item(entry, config), ensure_ascii=False)}".encode()
        for entry in feed.entries)
    listed = b"\n" + items + b"\n  " if items else b""
    return f'{head},\n  "items": ['.encode() + listed + b"]\n}\n"


def _json_item(entry: Entry, config: Config) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": entry.id,
        "url": entry.url,
        "title": entry.title,
        "summary": entry.summary_text,
        "content_html": entry.content_html,
        "date_published": rfc3339(entry.published),
        "date_modified": rfc3339(entry.updated),
        "tags": [tag.name for tag in entry.tags],
    }
    if entry.author:
        item["authors"] = [{"name": entry.author}]
    if entry.image is not None:
        item.update(json_feed_fields(entry.image, enclosure=config.image_enclosures))
    return item


RENDERERS: dict[str, Callable[[Feed, Config], bytes]] = {
    "atom.xml": atom_bytes,
    "rss.xml": rss_bytes,
    "feed.json": json_feed_bytes,
}
"""The function that writes each of a feed's files."""

"""`feeds.opml`: every subscription feed as an OPML 2.0 list, which a feed reader imports.

Each feed is named once, in the first published format (Atom by default): the combined feed,
then a folder of the tags' feeds. Pure; the same site always gives the same bytes.
"""

from __future__ import annotations

from datetime import timezone
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from feeder.config import Config
from feeder.site import Feed, Site

OPML_FILE = "feeds.opml"
OPML_TYPE = "text/x-opml"
"""The media type readers and servers use for OPML (it has no registered one)."""


def _outline(parent: ET.Element, feed: Feed, config: Config) -> None:
    ET.SubElement(parent, "outline", {
        "type": "rss", "text": feed.title, "title": feed.title, "description": feed.subtitle,
        "xmlUrl": feed.url(config.feed_files[0]), "htmlUrl": feed.home_url,
        "language": config.language})


def opml_bytes(site: Site, config: Config) -> bytes:
    """Every subscription feed (combined, then each tag's) as an OPML 2.0 document."""
    root = ET.Element("opml", {"version": "2.0"})
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = f"{config.title}: every feed"
    # The newest change to any brief, never the build time, so a rebuild writes the same bytes.
    newest = max(entry.updated for entry in site.entries)
    ET.SubElement(head, "dateModified").text = format_datetime(newest.astimezone(timezone.utc),
                                                               usegmt=True)  # RFC 822
    author = config.author
    ET.SubElement(head, "ownerName").text = author.name if author else config.title
    if author and author.email:
        ET.SubElement(head, "ownerEmail").text = author.email
    body = ET.SubElement(root, "body")
    feeds = [feed for feed in site.feeds if not feed.archive]
    for feed in feeds:
        if feed.tag is None:
            _outline(body, feed, config)
    tagged = [feed for feed in feeds if feed.tag is not None]
    if tagged:
        # A folder: `text` only (the W3C validator warns of an outline with a title but no
        # type, which readers would take for a feed).
        folder = ET.SubElement(body, "outline", {"text": f"{config.title}: tags"})
        for feed in tagged:
            _outline(folder, feed, config)
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{text}\n'.encode()

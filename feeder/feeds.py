"""Feed documents: Atom 1.0 and RSS 2.0 through feedgen. The only module that imports feedgen.

feedgen's defaults are not trusted (see docs/DESIGN.md): it reads the clock, prepends
entries and takes the RSS <link> from the last link added. So every date is set from the
entries, entries are appended in the order given, the self link is added before the
alternate one, and the generator carries no version (a version bump would rewrite every
feed). Everything here is pure: a `Feed` in, bytes out.
"""

from __future__ import annotations

from typing import Any

from feedgen.feed import FeedGenerator

from feeder.config import Author, Config
from feeder.site import Entry, Feed

ATOM_TYPE = "application/atom+xml"
RSS_TYPE = "application/rss+xml"
HTML_TYPE = "text/html"
GENERATOR = "feeder"
GENERATOR_URI = "https://pypi.org/project/feeder/"


def _feed_author(config: Config) -> Author:
    return config.author or Author(config.title)


def _generator(feed: Feed, config: Config, self_url: str, self_type: str) -> Any:
    fg = FeedGenerator()
    fg.id(feed.home_url)
    fg.title(feed.title)
    fg.subtitle(feed.subtitle)
    # Self first, alternate last: feedgen's RSS <link> is the last link added.
    fg.link(href=self_url, rel="self", type=self_type)
    fg.link(href=feed.home_url, rel="alternate", type=HTML_TYPE)
    author = _feed_author(config)
    fg.author({k: v for k, v in (("name", author.name), ("email", author.email),
                                  ("uri", author.uri)) if v})
    if author.email:
        fg.managingEditor(f"{author.email} ({author.name})")
    fg.language(config.language)
    fg.generator(GENERATOR, uri=GENERATOR_URI)
    fg.updated(feed.updated)  # also the RSS lastBuildDate: from the content, not the clock
    return fg


def _add_entry(fg: Any, entry: Entry, scheme: str, *, dc: bool) -> None:
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
    for tag in entry.tags:
        fe.category(term=tag.slug, label=tag.name, scheme=scheme)
    # Summary = the short version (RSS <description>), content = the full text
    # (RSS <content:encoded>); both HTML, escaped.
    fe.content(entry.content_html, type="html")
    fe.summary(entry.summary_html, type="html")


def atom_bytes(feed: Feed, config: Config) -> bytes:
    """The feed as an Atom 1.0 document (RFC 4287)."""
    fg = _generator(feed, config, feed.url("atom.xml"), ATOM_TYPE)
    for entry in feed.entries:
        _add_entry(fg, entry, feed.tag_scheme, dc=False)
    return bytes(fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)) + b"\n"


def rss_bytes(feed: Feed, config: Config) -> bytes:
    """The feed as an RSS 2.0 document, with atom:link rel="self" and content:encoded."""
    fg = _generator(feed, config, feed.url("rss.xml"), RSS_TYPE)
    dc = any(entry.author for entry in feed.entries)
    if dc:
        fg.load_extension("dc", atom=False, rss=True)
    for entry in feed.entries:
        _add_entry(fg, entry, feed.tag_scheme, dc=dc)
    return bytes(fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)) + b"\n"

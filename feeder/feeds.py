"""Feed documents: Atom 1.0, RSS 2.0 (through feedgen) and JSON Feed 1.1.

The only module that imports feedgen. Its defaults are not trusted: it reads the clock,
prepends entries and takes the RSS <link> from the last link added. So every date is set
from the entries, entries are appended in the order given, the self link is added before
the alternate one, and the generator carries no version (a version bump would otherwise
rewrite every feed). Everything here is pure: a `Feed` in, bytes out. Each entry's XML is
written by feedgen once per format and process and copied into every document that holds
it (`_Fragments`, a memo of those pure results: the bytes are what feedgen writes for the
whole document, which tests/test_feeds.py checks).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from itertools import pairwise
from operator import itemgetter
from typing import Any, NamedTuple
from urllib.parse import quote

from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from feeder.config import Author, Config
from feeder.site import Entry, Feed

ATOM_TYPE = "application/atom+xml"
RSS_TYPE = "application/rss+xml"
JSON_FEED_TYPE = "application/feed+json"
HTML_TYPE = "text/html"
GENERATOR = "feeder"
GENERATOR_URI = "https://pypi.org/project/feeder/"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
ATOM_NS = "http://www.w3.org/2005/Atom"
FH_NS = "http://purl.org/syndication/history/1.0"

FORMATS: dict[str, str] = {"atom.xml": ATOM_TYPE, "rss.xml": RSS_TYPE, "feed.json": JSON_FEED_TYPE}
"""The file of each feed format, by name, with its media type: every format feeder writes;
a build writes the ones published (`Config.feed_files`)."""


def _feed_author(config: Config) -> Author:
    return config.author or Author(config.title)


def _extra_links(feed: Feed, name: str) -> list[tuple[str, str]]:
    """WebSub hubs and RFC 5005 links of `feed`, for its file `name`."""
    links = [("hub", hub) for hub in feed.hubs]
    links += [(rel, feed.base_url + quote(folder) + name) for rel, folder in feed.archive_links]
    return links


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
        channel = root[0]
        for rel, href in self.links:
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=href, rel=rel)
        if self.feed.archive:
            etree.SubElement(channel, f"{{{FH_NS}}}archive")
        return root


def _generator(feed: Feed, config: Config, name: str, *, rss: bool) -> Any:
    fg = FeedGenerator()
    fg.id(feed.home_url)
    fg.title(feed.title)
    fg.subtitle(feed.subtitle)
    # Self first, alternate last: feedgen's RSS <link> is the last link added.
    fg.link(href=feed.url(name), rel="self", type=FORMATS[name])
    links = _extra_links(feed, name)
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
    fg.generator(GENERATOR, uri=GENERATOR_URI)
    fg.updated(feed.updated)  # also the RSS lastBuildDate: from the content, not the clock
    if links or feed.archive:
        history = _History(feed, links if rss else [])
        fg.register_extension("history", lambda: history, None, atom=not rss, rss=rss)
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
    if entry.tags:  # in one call: feedgen goes through all of an entry's tags on each
        fe.category([{"term": tag.slug, "label": tag.name, "scheme": scheme}
                     for tag in entry.tags])
    # Summary = the short version (RSS <description>), content = the full text
    # (RSS <content:encoded>); both HTML, escaped.
    fe.content(entry.content_html, type="html")
    fe.summary(entry.summary_html, type="html")


def _scheme(feed: Feed, name: str) -> str:
    """The categories' scheme in the entries of the file `name` of `feed` (JSON Feed has
    none): with the file's name, what an entry's XML or JSON depends on besides itself."""
    return "" if name == "feed.json" else feed.tag_scheme


def atom_bytes(feed: Feed, config: Config) -> bytes:
    """The feed as an Atom 1.0 document (RFC 4287)."""
    fg = _generator(feed, config, "atom.xml", rss=False)
    head = bytes(fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True))
    return _with_entries(head, b"</feed>", _FRAGMENTS.get(feed, "atom.xml"))


def rss_bytes(feed: Feed, config: Config) -> bytes:
    """The feed as an RSS 2.0 document, with atom:link rel="self" and content:encoded."""
    fg = _generator(feed, config, "rss.xml", rss=True)
    if any(entry.author for entry in feed.entries):  # dc:creator: see _add_entry
        fg.load_extension("dc", atom=False, rss=True)
    head = _plain_text_references(bytes(fg.rss_str(pretty=True, encoding="UTF-8",
                                                   xml_declaration=True)))
    return _with_entries(head, b"</channel>", _FRAGMENTS.get(feed, "rss.xml"))


def _with_entries(document: bytes, end: bytes, entries: list[bytes]) -> bytes:
    """A document feedgen wrote without entries, with the entries' XML put where feedgen
    puts them (last in the feed or channel, as `_entries_bytes` cut them out)."""
    at = document.rindex(b"\n", 0, document.rindex(end)) + 1  # the end tag's line
    return b"".join([document[:at], *entries, document[at:], b"\n"])


def find_all(data: bytes, mark: bytes, begin: int = 0) -> list[int]:
    """Where `mark` (the start of an entry, in a document written here: the entries' text is
    escaped, so no text looks like one) is in `data`, from `begin` on."""
    found = []
    at = data.find(mark, begin)
    while at != -1:
        found.append(at)
        at = data.find(mark, at + len(mark))
    return found


def _entries_bytes(entries: Sequence[Entry], scheme: str, name: str) -> list[bytes]:
    """The XML of each of `entries` in a feed document `name` (see `_entries_in`)."""
    return _entries_in(entries, scheme, (name,))[0]


def _entries_in(entries: Sequence[Entry], scheme: str,
                names: Sequence[str]) -> list[list[bytes]]:
    """The XML of each of `entries` in a feed document of each of `names`: feedgen's, cut
    out of a document of those entries alone, with the indentation they have in any feed
    (for a JSON Feed, each item on one line, indented). Atom and RSS are both cut from one
    feedgen document: its entries are made once for the two.

    An entry's XML depends on nothing else in its feed (the categories' scheme is the
    site's, dc:creator is declared wherever an entry has an author), so each entry is
    written once per format and then copied into each feed that holds it (see _Fragments);
    the entries a feed needs are written together (one document for each would take twice
    as long).
    """
    written: list[list[bytes]] = []
    document = None
    for name in names:
        if name == "feed.json":
            written.append([f"    {json.dumps(_json_item(entry), ensure_ascii=False)}".encode()
                            for entry in entries])
        elif not entries:
            written.append([])
        else:
            if document is None:
                document = _entries_document(entries, scheme, rss="rss.xml" in names)
            written.append(_cut_entries(document, name == "rss.xml", len(entries)))
    return written


def _entries_document(entries: Sequence[Entry], scheme: str, *, rss: bool) -> Any:
    """A feedgen document of `entries` alone, to cut them out of (`rss`: as RSS too)."""
    fg = FeedGenerator()
    fg.id(scheme)
    fg.title("-")
    fg.link(href=scheme)
    fg.description("-")
    fg.updated(entries[0].updated)
    dc = rss and any(entry.author for entry in entries)
    if dc:  # (an RSS extension only: the Atom document is the same with it or without)
        fg.load_extension("dc", atom=False, rss=True)
    for entry in entries:
        _add_entry(fg, entry, scheme, dc=dc and bool(entry.author))
    return fg


def _cut_entries(fg: Any, rss: bool, count: int) -> list[bytes]:
    """The XML of each of the `count` entries of the feedgen document `fg`, as Atom or RSS."""
    if rss:
        data = _plain_text_references(bytes(fg.rss_str(pretty=True, encoding="UTF-8")))
        start, end = b"<item>", b"</item>\n"
    else:
        data = bytes(fg.atom_str(pretty=True, encoding="UTF-8"))
        start, end = b"<entry>", b"</entry>\n"
    # Each entry from the start of its first line (its indentation) to the next one's.
    firsts = [data.rindex(b"\n", 0, at) + 1 for at in find_all(data, start)]
    if len(firsts) != count:
        raise RuntimeError(f"feedgen wrote {len(firsts)} entries of {count}")
    firsts.append(data.rindex(end) + len(end))
    return [data[first:after] for first, after in pairwise(firsts)]


class EntriesToWrite(NamedTuple):
    """Entries whose XML (or JSON) a build needs in the files `names` of feeds whose
    categories' scheme is `scheme`."""

    scheme: str
    names: tuple[str, ...]
    entries: tuple[Entry, ...]

    def chunks(self, size: int) -> list[EntriesToWrite]:
        """The same entries, `size` at a time."""
        return [self._replace(entries=self.entries[at:at + size])
                for at in range(0, len(self.entries), size)]


def write_entries(todo: EntriesToWrite) -> list[list[bytes]]:
    """The XML (or JSON) of each entry of `todo` in each of its files, as feeds copy it."""
    return _entries_in(todo.entries, todo.scheme, todo.names)


def entries_to_write(files: Iterable[tuple[Feed, str]]) -> list[EntriesToWrite]:
    """The entries of the feed files `files` (a feed, the name of its file) that this process
    would write (each once): none unless it may keep them all (see keep_room_for). Worker
    processes forked after `keep_written` has kept them copy them into their feeds, where
    each would otherwise write most of them again."""
    return _FRAGMENTS.missing(files)


def keep_written(todo: EntriesToWrite, written: Sequence[Sequence[bytes]]) -> None:
    """Keep `written`, the output of write_entries(todo) (made in another process)."""
    _FRAGMENTS.keep_written(todo, written)


class _Fragments:
    """The XML of entries written, to copy into every feed that holds them: an entry is in
    the combined feed and in each of its tags' feeds. At most `budget` bytes are kept: once
    it is reached, further entries are written each time they are needed (the documents
    come in path order, so an entry's next use is anywhere: keeping the first ones is as
    good as any choice, and cheaper)."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.size = 0
        self.found: dict[tuple[str, str], dict[bytes, bytes]] = {}
        """(scheme, file name) -> entry digest -> the entry's XML or JSON."""

    def __len__(self) -> int:
        return sum(len(group) for group in self.found.values())

    def get(self, feed: Feed, name: str) -> list[bytes]:
        """The XML of each entry of `feed` in its file `name`."""
        scheme = _scheme(feed, name)
        found = self.found.setdefault((scheme, name), {})
        missing = {entry.digest: entry for entry in feed.entries if entry.digest not in found}
        made = dict(zip(missing, _entries_bytes(list(missing.values()), scheme, name),
                        strict=True))
        for digest, data in made.items():
            self._keep(found, digest, data)
        return [found.get(entry.digest) or made[entry.digest] for entry in feed.entries]

    def _keep(self, found: dict[bytes, bytes], digest: bytes, data: bytes) -> None:
        if self.size + len(data) <= self.budget:
            found[digest] = data
            self.size += len(data)

    def missing(self, files: Iterable[tuple[Feed, str]]) -> list[EntriesToWrite]:
        """The entries of the feed files `files` (a feed, the file's name) whose XML is not
        kept, each once; none when they would not all be kept (see keep_room_for)."""
        if self.budget < FRAGMENT_BUDGET:
            return []
        groups: dict[tuple[str, str], dict[bytes, Entry]] = {}
        for feed, name in files:
            scheme = _scheme(feed, name)
            found = self.found.get((scheme, name), {})
            group = groups.setdefault((scheme, name), {})
            for entry in feed.entries:
                if entry.digest not in found:
                    group.setdefault(entry.digest, entry)
        todo: list[EntriesToWrite] = []
        xml: dict[tuple[str, tuple[bytes, ...]], int] = {}
        """Where in `todo` the XML of the same entries goes (Atom and RSS: one task)."""
        for (scheme, name), group in groups.items():
            if not group:
                continue
            if name != "feed.json":
                same = xml.setdefault((scheme, tuple(group)), len(todo))
                if same < len(todo):
                    todo[same] = todo[same]._replace(names=(*todo[same].names, name))
                    continue
            todo.append(EntriesToWrite(scheme, (name,), tuple(group.values())))
        return todo

    def keep_written(self, todo: EntriesToWrite, written: Sequence[Sequence[bytes]]) -> None:
        """Keep the XML of `todo`'s entries written elsewhere (by write_entries)."""
        for name, written_in in zip(todo.names, written, strict=True):
            found = self.found.setdefault((todo.scheme, name), {})
            for entry, data in zip(todo.entries, written_in, strict=True):
                self._keep(found, entry.digest, data)

    def clear(self) -> None:
        self.found.clear()
        self.size = 0

    def kept(self, limit: int,
             preferred: Iterable[Entry]) -> dict[tuple[str, str], dict[bytes, bytes]]:
        """The entries' XML and JSON kept: all of it if it takes at most `limit` bytes,
        else that of the first entries of `preferred` whose XML and JSON fit."""
        if self.size <= limit:
            return {group: dict(found) for group, found in self.found.items() if found}
        chosen: dict[tuple[str, str], dict[bytes, bytes]] = {}
        size = 0
        groups = [(group, found) for group, found in self.found.items() if found]
        for entry in preferred:
            digest = entry.digest
            for group, found in groups:
                data = found.get(digest)
                if data is not None:
                    size += len(data)
                    if size > limit:
                        return chosen
                    chosen.setdefault(group, {})[digest] = data
        return chosen

    def prime(self, stored: Mapping[tuple[str, str], Mapping[bytes, bytes]],
              files: Iterable[tuple[Feed, str]]) -> None:
        """Keep the entries' XML or JSON of `stored` (kept by an earlier build: see
        `kept`) that the feed files `files` hold."""
        for feed, name in files:
            group = (_scheme(feed, name), name)
            given = stored.get(group)
            if not given:
                continue
            found = self.found.setdefault(group, {})
            for entry in feed.entries:
                digest = entry.digest
                if digest not in found:
                    data = given.get(digest)
                    if data is not None:
                        self._keep(found, digest, data)


FRAGMENT_BUDGET = 160 << 20
"""Bytes of entries' XML and JSON a process may keep (see _Fragments) when every entry of
the site fits: then each is written once per format. A larger site gets SMALL_BUDGET (in a
document of N entries, one is found again only if kept: keeping a small part of them saves
a small part of the time, and its memory is needed elsewhere: see docs/PERFORMANCE.md)."""
SMALL_BUDGET = 16 << 20
_ENTRY_EXTRA = 2048
"""Bytes an entry takes in each format besides its HTML (its id, URL, title, dates, tags)."""
_FRAGMENTS = _Fragments(SMALL_BUDGET)


def kept_entries(limit: int, preferred: Iterable[Entry]
                 ) -> dict[tuple[str, str], dict[bytes, bytes]]:
    """The entries' XML and JSON this process wrote or was given (by `reuse_entries`),
    by categories' scheme and file name, then by entry digest: at most `limit` bytes, those
    of the first entries of `preferred` when there is more (a cold build writes every
    entry: the newest are those a rebuild writes again). What a later build may give
    `reuse_entries` (the build cache keeps them): the entries of the feeds a rebuild writes
    are mostly those the last one wrote."""
    return _FRAGMENTS.kept(limit, preferred)


def reuse_entries(stored: Mapping[tuple[str, str], Mapping[bytes, bytes]],
                  files: Iterable[tuple[Feed, str]]) -> None:
    """Keep, for the feed files `files` (a feed, the name of its file), the XML and JSON of
    their entries found in `stored` (see `kept_entries`): an entry's XML depends only on the
    entry (its digest), the categories' scheme and the format."""
    _FRAGMENTS.prime(stored, files)


def forget_entries() -> None:
    """Let go of the entries' XML kept so far (a new build starts: see _Fragments)."""
    _FRAGMENTS.clear()
    _FRAGMENTS.budget = SMALL_BUDGET


def keep_room_for(entries: Iterable[Entry], files: Iterable[str] = tuple(FORMATS)) -> None:
    """Let this process (and the workers it starts) keep the XML of every one of `entries`
    in the feed files `files` (the published formats) when it takes at most FRAGMENT_BUDGET
    bytes."""
    names = set(files)
    xmls = sum(name != "feed.json" for name in names)
    jsons = len(names) - xmls
    sizes = [entry.body.sizes for entry in entries]  # (the sums, in C: 10,000 at a time)
    needed = xmls * sum(map(itemgetter(0), sizes)) + jsons * sum(map(itemgetter(1), sizes)) \
        + len(names) * _ENTRY_EXTRA * len(sizes)
    _FRAGMENTS.budget = FRAGMENT_BUDGET if needed <= FRAGMENT_BUDGET else SMALL_BUDGET


def _plain_text_references(data: bytes) -> bytes:
    return _PLAIN_TEXT_ELEMENT.sub(_hex_references, data)


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


def _json_author(author: Author) -> dict[str, str]:
    # JSON Feed authors have no email: a mailto: URL is how the spec says to give one.
    url = author.uri or (f"mailto:{author.email}" if author.email else None)
    return {"name": author.name, **({"url": url} if url else {})}


def json_feed_bytes(feed: Feed, config: Config) -> bytes:
    """The feed as a JSON Feed 1.1 document; `summary` is the short version as plain text."""
    data: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": feed.title,
        "home_page_url": feed.home_url,
        "feed_url": feed.url("feed.json"),
        "description": feed.subtitle,
        "language": config.language,
        "authors": [_json_author(_feed_author(config))],
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
    items = b",\n".join(_FRAGMENTS.get(feed, "feed.json"))
    listed = b"\n" + items + b"\n  " if items else b""
    return f'{head},\n  "items": ['.encode() + listed + b"]\n}\n"


def _json_item(entry: Entry) -> dict[str, Any]:
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
    return item


RENDERERS: dict[str, Callable[[Feed, Config], bytes]] = {
    "atom.xml": atom_bytes,
    "rss.xml": rss_bytes,
    "feed.json": json_feed_bytes,
}
"""The function that writes each of a feed's files."""

"""The full history of every feed (RFC 5005): its subscription feed, the newest entries (at
most `max_entries`, and as many as keep each published format within `max_feed_bytes`), and
archive pages of `archive_page_size` entries from the oldest (`archive/1/`), so that a new
brief changes the newest page only. A bound computed from the entries' texts tells most feeds
fit without rendering them; the others are rendered, and measured.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import quote

from feeder.config import Config
from feeder.feeds import RENDERERS
from feeder.render import Rendered, text_sizes
from feeder.site import Entry, Feed, with_html

_LONGEST_NAME = max(RENDERERS, key=len)
"""The longest feed file name: the bounds count it in the feeds' URLs."""
_ENTRY_MARKUP = 640
"""Bytes of markup one entry takes at most in any format besides its text (at most 400)."""
_TAG_MARKUP = 96
"""The same for each of an entry's tags, besides its name, slug and scheme (at most 50)."""
_FEED_MARKUP = 4096
"""The same for a feed's head and tail (about 1,200)."""
_SPLIT_MARKERS: dict[str, tuple[bytes, bytes, bytes]] = {
    "atom.xml": (b"<feed", b"<entry>", b"</feed>"),
    "rss.xml": (b"<channel>", b"<item>", b"</channel>"),
    "feed.json": (b'"items": [', b"\n    {", b"\n  ]"),
}
"""In a rendered document: after what the entries come, where each starts, where the last ends."""


def archive_folder(feed: Feed, number: int) -> str:
    return f"{feed.folder}archive/{number}/"


def plan_history(feeds: Iterable[Feed], config: Config,
                 html: Mapping[bytes, Rendered] | None = None,
                 sizes: SizeBounds | None = None) -> tuple[Feed, ...]:
    """Each feed (all its entries, newest first) as its subscription feed followed by its
    archive pages, oldest first, given the HTML (by body digest) `html_needed` names."""
    sizes = sizes or SizeBounds(config)
    return tuple(document for feed in feeds for document in split_feed(feed, config, sizes, html))


def html_needed(feeds: Iterable[Feed], config: Config, sizes: SizeBounds) -> set[bytes]:
    """The body digests of the entries without HTML that `plan_history` must render to
    measure their feeds."""
    needed: set[bytes] = set()
    for feed in feeds:
        whole = _subscription(feed, min(config.max_entries, len(feed.entries)), config)
        if _may_be_over(whole, config, sizes):
            needed.update(entry.body.digest for entry in whole.entries
                          if entry.body.html is None)
    return needed


def _may_be_over(whole: Feed, config: Config, sizes: SizeBounds) -> bool:
    """Whether a file of `whole` may be over max_feed_bytes (and must be measured). Most
    feeds are far below it: the rough bound, which takes no look at the texts, tells."""
    limit = config.max_feed_bytes
    return bool(whole.entries) and sizes.rough_bound(whole) > limit and \
        sizes.bound(whole) > limit


def split_feed(feed: Feed, config: Config, sizes: SizeBounds | None = None,
               html: Mapping[bytes, Rendered] | None = None) -> tuple[Feed, ...]:
    """One feed as its subscription feed and its archive pages (oldest first)."""
    kept = subscription_size(feed, config, sizes, html)
    archived = feed.entries[kept:][::-1]  # oldest first
    per_page = config.archive_page_size
    pages = [archived[start:start + per_page] for start in range(0, len(archived), per_page)]
    return (_subscription(feed, kept, config),
            *(_archive_page(feed, number, len(pages), page)
              for number, page in enumerate(pages, 1)))


def subscription_size(feed: Feed, config: Config, sizes: SizeBounds | None = None,
                      html: Mapping[bytes, Rendered] | None = None) -> int:
    """How many of the feed's newest entries its subscription feed keeps."""
    sizes = sizes or SizeBounds(config)
    cap = min(config.max_entries, len(feed.entries))
    limit = config.max_feed_bytes
    whole = _subscription(feed, cap, config)
    if not _may_be_over(whole, config, sizes):  # surely fits, in every format
        return cap
    whole = replace(whole, entries=with_html(whole.entries, html or {}))
    renderings = {name: RENDERERS[name](whole, config) for name in config.feed_files}
    guesses = [_estimate(data, name, cap, limit) for name, data in renderings.items()
               if len(data) > limit]
    if not guesses:  # every format fits
        return cap
    with_entries = replace(feed, entries=whole.entries + feed.entries[cap:])

    def fits(kept: int) -> bool:
        subscription = _subscription(with_entries, kept, config)
        return all(len(RENDERERS[name](subscription, config)) <= limit for name in renderings)

    return _largest_fitting(fits, cap, min(guesses))


def _subscription(feed: Feed, kept: int, config: Config) -> Feed:
    pages = -(-(len(feed.entries) - kept) // config.archive_page_size)
    links = (("prev-archive", archive_folder(feed, pages)),) if pages else ()
    return replace(feed, entries=feed.entries[:kept], archive=False,
                   archive_links=feed.archive_links + links,
                   empty_updated=None if kept else feed.updated)


def _archive_page(feed: Feed, number: int, pages: int, entries: tuple[Entry, ...]) -> Feed:
    links = [("current", feed.folder)]
    if number > 1:
        links.append(("prev-archive", archive_folder(feed, number - 1)))
    if number < pages:
        links.append(("next-archive", archive_folder(feed, number + 1)))
    return replace(feed, folder=archive_folder(feed, number),
                   title=f"{feed.title} (archive {number})",
                   entries=entries[::-1],  # newest first, like every feed
                   hubs=(),  # nobody subscribes to an archive page
                   archive=True, archive_links=tuple(links), empty_updated=None)


def _estimate(data: bytes, name: str, count: int, limit: int) -> int:
    """From a rendering of `count` entries that is over `limit`: how many of them probably
    fit (the document is smaller without them, but a little more than their sizes say)."""
    after, start, end = _SPLIT_MARKERS[name]
    # The entries' text is escaped: no text looks like the start of an entry.
    starts = [match.start() for match in
              re.compile(re.escape(start)).finditer(data, max(data.find(after), 0))]
    last = data.rfind(end)
    if len(starts) != count or last < (starts[-1] if starts else 0):
        return 0  # not the expected layout: search from nothing
    size = len(data) - (last - starts[0])  # the head and tail
    for kept, (begin, end_of_entry) in enumerate(zip(starts, [*starts[1:], last], strict=True)):
        size += end_of_entry - begin
        if size > limit:
            return kept
    return count


def _largest_fitting(fits: Callable[[int], bool], high: int, guess: int) -> int:
    """The largest n in [0, high) with fits(n), fits being true up to some n (and at 0) and
    false after. Gallops from `guess`, then bisects: a guess off by one costs two calls."""
    low, probe, step = 0, guess, 1
    while high - low > 1:
        if not low < probe < high:
            probe = (low + high) // 2
        if fits(probe):
            low, probe = probe, probe + step
        else:
            high, probe = probe, probe - step
        step *= 2
    return low


def _media_bytes(entry: Entry) -> int:
    """At most the bytes of an entry's lead image (its URL in three elements, in any
    format) and of the width and height given to its pictures (see feeder.media)."""
    image = entry.image
    return (0 if image is None else 512 + 18 * len(image.url) + 6 * len(image.alt)) + \
        40 * len(entry.sizes)


@dataclass(slots=True)
class SizeBounds:
    """Upper bounds of the bytes a feed takes in any format, computed without rendering; an
    entry's once, though it is in several feeds."""

    config: Config
    entries: dict[str, int] = field(default_factory=dict)
    """By entry id: the bound of the entry."""
    rough: dict[str, int] = field(default_factory=dict)
    """By entry id: a rougher bound of the entry (at least the other)."""

    def rough_bound(self, feed: Feed) -> int:
        """At least the size of any file of the feed: every character of an entry's short
        texts counted as 6 bytes (no character takes more, escaped, in UTF-8, XML or JSON)."""
        total, scheme = self.head(feed), len(feed.tag_scheme)
        for entry in feed.entries:
            bound = self.rough.get(entry.id)
            if bound is None:
                tags = sum(len(tag.slug) + len(tag.name) + scheme + 3 for tag in entry.tags)
                short = len(entry.id) + len(entry.url) + len(entry.title) + \
                    len(entry.author or "") + tags + 3
                bound = self.rough[entry.id] = _ENTRY_MARKUP + max(entry.body.sizes) + \
                    6 * short + _TAG_MARKUP * len(entry.tags) + _media_bytes(entry)
            total += bound
        return total

    def bound(self, feed: Feed) -> int:
        """At least the size of any file of the feed."""
        return self.head(feed) + sum(self.entry(entry, feed) for entry in feed.entries)

    def head(self, feed: Feed) -> int:
        """At least the bytes of any file of the feed without its entries."""
        author = self.config.author
        texts = [feed.title, feed.subtitle, self.config.title, self.config.language, *feed.hubs,
                 *((author.name, author.email or "", author.uri or "") if author else ()),
                 feed.home_url, feed.url(_LONGEST_NAME)]
        texts += [f"{feed.base_url}{quote(folder)}{_LONGEST_NAME}"
                  for _, folder in feed.archive_links]
        return _FEED_MARKUP + 3 * max(text_sizes("\n".join(texts)))

    def entry(self, entry: Entry, feed: Feed) -> int:
        """At least the bytes `entry` adds to any file of `feed`."""
        bound = self.entries.get(entry.id)
        if bound is None:
            # Each text appears once per format. The short ones may be attribute values (an
            # Atom link's href, a category's label), so they are joined and measured as one;
            # the summary is HTML in Atom and RSS, plain text in JSON Feed.
            short = "\n".join((entry.id, entry.url, entry.title, entry.author or "",
                               *(text for tag in entry.tags
                                 for text in (tag.slug, tag.name, feed.tag_scheme))))
            texts_xml, texts_json = entry.body.sizes
            _, short_xml, short_json = text_sizes(short)
            bound = self.entries[entry.id] = _ENTRY_MARKUP + _TAG_MARKUP * len(entry.tags) + \
                max(texts_xml + short_xml, texts_json + short_json) + _media_bytes(entry)
        return bound

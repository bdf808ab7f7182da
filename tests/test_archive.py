"""The full history (RFC 5005): subscription feeds, archive pages, their links and stability."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from feeder.archive import SizeBounds, split_feed, subscription_size
from feeder.config import parse_config
from feeder.feeds import RENDERERS
from feeder.pipeline import collect
from feeder.render import Rendered, text_sizes
from feeder.site import Body, Entry, Feed, Tag
from tests.conftest import NOW, Project, check_atom, house, jing, jsonfeed_validator, parse_feed

BASE = "https://news.example.com/"
FH = "http://purl.org/syndication/history/1.0"
FORMATS = ("atom.xml", "rss.xml", "feed.json")
FIRST_DAY = date(2016, 1, 1)
SETTINGS = f'title = "Arch"\nbase_url = "{BASE}"\nmax_entries = 10\narchive_page_size = 25\n'
SMALL = f'title = "Arch"\nbase_url = "{BASE}"\nmax_entries = 4\narchive_page_size = 10\n'
"""For the tests that build twice: fewer briefs, the same shape (several full pages)."""


# --- a project with many briefs --------------------------------------------------------------

def _tags(number: int) -> list[str]:
    tags = ["even" if number % 2 == 0 else "odd"]
    if number % 7 == 0:
        tags.append("Ελλάδα")
    if number in (3, 50):
        tags.append("rare")
    return tags


def _day(number: int) -> date:
    return FIRST_DAY + timedelta(days=number)


def _id(number: int) -> str:
    return f"tag:news.example.com,{_day(number):%Y-%m-%d}:b{number}"


def _write_brief(project: Project, number: int, *, words: int | None = None) -> None:
    words = (number % 13) * 30 if words is None else words
    project.brief(f"{_day(number)}-b{number}.txt",
                  house(f"Brief {number} & <co>", ", ".join(_tags(number)),
                        longer="Word " * words + "& <b>bold</b> \"quoted\"."))


def _make(root: Path, count: int, settings_text: str = SETTINGS) -> Project:
    project = Project(root)
    project.settings(settings_text)
    for number in range(count):
        _write_brief(project, number)
    return project


def _expected(numbers: list[int], tag: str | None = None,
              extra: tuple[tuple[datetime, str], ...] = ()) -> list[str]:
    """The ids of the briefs `numbers` (those with `tag`) and `extra` ones, newest first."""
    chosen = [(datetime.combine(_day(n), time(), timezone.utc), _id(n))
              for n in numbers if tag is None or tag in _tags(n)]
    return [i for _, i in sorted([*chosen, *extra], reverse=True)]


# --- reading a feed's history as a reader would -----------------------------------------------

@dataclass
class Doc:
    rel: str
    title: str
    ids: list[str]
    links: dict[str, str]


def _read(public: Path, rel: str) -> Doc:
    data = (public / rel).read_bytes()
    if rel.endswith(".json"):
        feed = json.loads(data)
        links = {"self": feed["feed_url"]}
        if "next_url" in feed:  # JSON Feed pages towards older items
            links["prev-archive"] = feed["next_url"]
        return Doc(rel, feed["title"], [item["id"] for item in feed["items"]], links)
    parsed = parse_feed(data)
    links = {link["rel"]: link["href"] for link in parsed.feed.links}
    return Doc(rel, parsed.feed.title, [entry.id for entry in parsed.entries], links)


def _rel(href: str) -> str:
    assert href.startswith(BASE), href
    return unquote(href.removeprefix(BASE))


def _url(rel: str) -> str:
    return BASE + quote(rel)


def walk(public: Path, folder: str, name: str) -> list[Doc]:
    """The subscription feed, then every archive page newest first, by prev-archive links."""
    docs: list[Doc] = []
    rel: str | None = folder + name
    while rel is not None:
        assert rel not in {doc.rel for doc in docs}, f"{rel} links back into the chain"
        docs.append(_read(public, rel))
        prev = docs[-1].links.get("prev-archive")
        rel = _rel(prev) if prev else None
    return docs


def _has_fh_archive(path: Path) -> bool:
    root = etree.parse(str(path)).getroot()
    head = root if root.tag == "{http://www.w3.org/2005/Atom}feed" else root.find("channel")
    assert head is not None
    return head.find(f"{{{FH}}}archive") is not None


def check_history(public: Path, folder: str, title: str, expected: list[str], *,
                  page_size: int = 25, max_entries: int = 10) -> int:
    """Check one feed's history in every format; return its number of archive pages."""
    pages = None
    for name in FORMATS:
        docs = walk(public, folder, name)
        subscription, archives = docs[0], docs[1:]
        # every entry exactly once, newest first, across the subscription feed and the archive
        assert [i for doc in docs for i in doc.ids] == expected, name
        assert len(subscription.ids) == min(max_entries, len(expected))
        assert subscription.title == title
        count = len(archives)
        pages = count if pages is None else pages
        assert count == pages  # every format has the same pages
        for position, doc in enumerate(archives):
            number = count - position
            assert doc.rel == f"{folder}archive/{number}/{name}"
            assert doc.title == f"{title} (archive {number})"
            assert doc.links["self"] == _url(doc.rel)
            # page 1 is the oldest; every page but the newest is full
            assert len(doc.ids) == page_size or (number == count and 0 < len(doc.ids) <= page_size)
            if name == "feed.json":
                continue
            assert doc.links["current"] == _url(folder + name)
            newer = _url(f"{folder}archive/{number + 1}/{name}") if number < count else None
            assert doc.links.get("next-archive") == newer
            assert _has_fh_archive(public / doc.rel)
        if name != "feed.json":
            assert not _has_fh_archive(public / subscription.rel)
            assert "current" not in subscription.links
            assert "next-archive" not in subscription.links
        else:
            expired = [json.loads((public / d.rel).read_bytes()).get("expired") for d in docs]
            assert expired == [None] + [True] * count
    assert pages is not None
    return pages


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = _make(tmp_path_factory.mktemp("history") / "site", 130)
    project.build()
    return project


FEEDS = [("", "Arch", None), ("tags/even/", "Arch: even", "even"),
         ("tags/odd/", "Arch: odd", "odd"), ("tags/ελλάδα/", "Arch: Ελλάδα", "Ελλάδα")]


@pytest.mark.parametrize(("folder", "title", "tag"), FEEDS,
                         ids=["combined", "even", "odd", "greek"])
def test_the_history_holds_every_entry_once_in_order(history: Project, folder: str, title: str,
                                                     tag: str | None) -> None:
    expected = _expected(list(range(130)), tag)
    pages = check_history(history.public, folder, title, expected)
    assert pages == -(-(len(expected) - 10) // 25)


def test_the_combined_archive_layout(history: Project) -> None:
    archive = history.public / "archive"
    assert sorted(p.name for p in archive.iterdir()) == ["1", "2", "3", "4", "5"]
    for number in range(1, 6):
        assert sorted(p.name for p in (archive / str(number)).iterdir()) == sorted(FORMATS)
    # 120 archived entries: four full pages, then the newest page with 20; page 1 the oldest
    assert history.feed("archive/1/atom.xml").entries[-1].id == _id(0)
    assert history.feed("archive/1/atom.xml").entries[0].id == _id(24)
    assert [e.id for e in history.feed("archive/5/rss.xml").entries] == _expected(
        list(range(100, 120)))
    # an archive page's date comes from its own entries
    assert history.feed("archive/1/atom.xml").feed.updated == "2016-01-25T00:00:00+00:00"


def test_a_small_feed_has_no_archive(history: Project) -> None:
    assert check_history(history.public, "tags/rare/", "Arch: rare", _expected([3, 50])) == 0
    assert not (history.public / "tags" / "rare" / "archive").exists()


def test_archives_are_valid_atom_and_json_feed(history: Project) -> None:
    atoms = sorted(history.public.rglob("atom.xml"))
    assert len([p for p in atoms if "archive" in p.parts]) == 5 + 3 + 3 + 1
    for path in atoms:
        check_atom(path.read_bytes())
    validator = jsonfeed_validator()
    for path in sorted(history.public.rglob("feed.json")):
        errors = [error.message for error in validator.iter_errors(json.loads(path.read_bytes()))]
        assert errors == [], path
    jing(atoms)


# --- stability: publishing rewrites only the newest archive page -----------------------------

def _archive_files(project: Project) -> dict[str, tuple[bytes, int]]:
    return {rel: value for rel, value in project.snapshot().items() if "/archive/" in f"/{rel}"}


def _page(rel: str) -> tuple[str, int]:
    """The feed folder and page number of an archive file, e.g. ("tags/odd/", 3)."""
    folder, _, rest = rel.partition("archive/")
    return folder, int(rest.split("/")[0])


@pytest.mark.parametrize(("count", "changed", "created"),
                         [(58, ["archive/6/"], []), (54, ["archive/5/"], ["archive/6/"])],
                         ids=["newest-page-not-full", "newest-page-full"])
def test_publishing_a_brief_rewrites_only_the_newest_archive_page(
        tmp_path: Path, count: int, changed: list[str], created: list[str]) -> None:
    project = _make(tmp_path / "site", count, SMALL)
    project.build()
    before = _archive_files(project)
    newest = {}
    for rel in before:
        folder, number = _page(rel)
        newest[folder] = max(newest.get(folder, 0), number)

    _write_brief(project, count)
    project.build()
    after = _archive_files(project)

    assert set(before) <= set(after)  # no archive page disappears
    rewritten = {rel for rel in before if after[rel] != before[rel]}
    for rel in rewritten:
        folder, number = _page(rel)
        assert number == newest[folder], f"{rel} changed but is not the newest page"
    for rel in set(after) - set(before):
        folder, number = _page(rel)
        assert number == newest.get(folder, 0) + 1, rel
    # the combined feed: one entry moved from the subscription feed into the newest page or,
    # when that page was full, into a new page, and the full page gained its next-archive link
    def pages(rels: set[str]) -> list[str]:
        return sorted({rel.rsplit("/", 1)[0] + "/" for rel in rels if rel.startswith("archive/")})

    assert pages(rewritten) == changed
    assert pages(set(after) - set(before)) == created
    # a page that only gains its next-archive link keeps its JSON Feed (which links only
    # towards older items, with next_url)
    names = FORMATS if not created else ("atom.xml", "rss.xml")
    assert {rel for rel in rewritten if rel.startswith("archive/")} == {
        changed[0] + name for name in names}
    check_history(project.public, "", "Arch", _expected(list(range(count + 1))),
                  page_size=10, max_entries=4)
    tag = _tags(count)[0]
    check_history(project.public, f"tags/{tag}/", f"Arch: {tag}",
                  _expected(list(range(count + 1)), tag), page_size=10, max_entries=4)


def test_a_rebuild_without_changes_keeps_every_file(tmp_path: Path) -> None:
    project = _make(tmp_path / "site", 30, SMALL)
    project.build()
    before = project.snapshot()
    result = project.build()
    assert project.snapshot() == before
    assert result.report.written == ()


def test_a_backdated_brief_lands_in_its_page_and_nothing_is_lost(tmp_path: Path) -> None:
    project = _make(tmp_path / "site", 58, SMALL)
    project.build()
    before = _archive_files(project)
    # dated between briefs 14 and 15: page 2 of the combined archive (entries 10 to 19)
    project.brief("late.md", "---\ndate: 2016-01-15T12:00:00Z\nslug: late\n---\n"
                  + house("Late", "odd"), dedent=False)
    project.build()
    after = _archive_files(project)
    late = ((datetime(2016, 1, 15, 12, tzinfo=timezone.utc),
             "tag:news.example.com,2016-01-15:late"),)
    check_history(project.public, "", "Arch", _expected(list(range(58)), extra=late),
                  page_size=10, max_entries=4)
    check_history(project.public, "tags/odd/", "Arch: odd",
                  _expected(list(range(58)), "odd", extra=late), page_size=10, max_entries=4)
    # pages older than the brief keep their bytes; the pages after it shift by one entry
    for name in FORMATS:
        assert after[f"archive/1/{name}"] == before[f"archive/1/{name}"]
        assert after[f"archive/2/{name}"][0] != before[f"archive/2/{name}"][0]


def test_deleting_briefs_removes_the_pages_left_empty(tmp_path: Path) -> None:
    project = _make(tmp_path / "site", 58, SMALL)
    project.build()
    for number in range(38, 58):
        (project.content / f"{_day(number)}-b{number}.txt").unlink()
    result = project.build()
    assert check_history(project.public, "", "Arch", _expected(list(range(38))),
                         page_size=10, max_entries=4) == 4
    assert not (project.public / "archive" / "5").exists()
    assert {f"archive/{page}/{name}" for page in (5, 6) for name in FORMATS} <= set(
        result.report.removed)


# --- the byte limit -------------------------------------------------------------------------

def _subscriptions(public: Path) -> list[Path]:
    return [p for name in FORMATS for p in public.rglob(name) if "archive" not in p.parts]


def test_subscription_feeds_stay_within_max_feed_bytes(tmp_path: Path) -> None:
    limit = 30_000
    project = _make(tmp_path / "site", 40, f'base_url = "{BASE}"\nmax_entries = 50\n'
                                           f"max_feed_bytes = {limit}\narchive_page_size = 7\n")
    project.build()
    assert all(path.stat().st_size <= limit for path in _subscriptions(project.public))
    docs = walk(project.public, "", "atom.xml")
    assert len(docs) > 1  # the limit, not max_entries, sent entries to the archive
    assert [i for doc in docs for i in doc.ids] == _expected(list(range(40)))
    # each subscription feed is as full as the limit allows: the next entry would not fit
    config = project.config()
    site = collect(config, now=NOW).site  # every entry with its HTML
    assert site is not None
    logical = {"": site.entries, **{f"tags/{tag.slug}/": entries for tag, entries in site.tags}}
    checked = 0
    for feed in site.feeds:
        entries = logical[feed.folder] if not feed.archive else ()
        if feed.archive or len(entries) == len(feed.entries):
            continue
        bigger = replace(feed, entries=entries[:len(feed.entries) + 1])
        assert any(len(render(bigger, config)) > limit for render in RENDERERS.values())
        checked += 1
    assert checked >= 3  # the combined feed and both tags


def test_a_brief_too_large_for_any_feed_goes_to_the_archive(tmp_path: Path) -> None:
    project = _make(tmp_path / "site", 3, f'base_url = "{BASE}"\nmax_feed_bytes = 12000\n')
    _write_brief(project, 3, words=3000)  # the newest, about 15 kB on its own
    project.build()
    for name in FORMATS:
        subscription, *archives = walk(project.public, "", name)
        assert subscription.ids == []
        assert [i for doc in archives for i in doc.ids] == _expected([0, 1, 2, 3])
    assert all(path.stat().st_size <= 12000 for path in _subscriptions(project.public))
    # an empty feed still has a date: that of its newest entry, wherever it is
    assert project.feed("atom.xml").feed.updated == "2016-01-04T00:00:00+00:00"
    check_atom((project.public / "atom.xml").read_bytes())
    # the next brief is published in the subscription feed again
    _write_brief(project, 4, words=10)
    project.build()
    assert [e.id for e in project.feed("atom.xml").entries] == [_id(4)]
    assert [i for doc in walk(project.public, "", "rss.xml") for i in doc.ids] == _expected(
        [0, 1, 2, 3, 4])
    jing(sorted(project.public.rglob("atom.xml")))


# --- measuring sizes ------------------------------------------------------------------------

CONFIG = parse_config({"base_url": BASE, "author": {"name": "Desk", "email": "d@example.com"}},
                      root=Path("/p"))
T0 = datetime(2016, 1, 1, tzinfo=timezone.utc)


def _entry(number: int, content: str, *, title: str = "T", author: str | None = None,
           tags: tuple[Tag, ...] = (Tag("A", "a"),), summary: str = "<p>s</p>") -> Entry:
    day = T0 + timedelta(days=number)
    return Entry(id=f"tag:news.example.com,2016:{number}", url=f"{BASE}{number}/",
                 slug=str(number), path=f"content/{number}.md", title=title, published=day,
                 updated=day, tags=tags, author=author,
                 body=Body.of(Rendered(summary_html=summary, summary_text="s",
                                           content_html=content)))


def _feed(entries: list[Entry]) -> Feed:
    return Feed("tags/a/", "A", "Briefs tagged A", BASE + "tags/a/", BASE,
                tuple(sorted(entries, key=lambda e: e.published, reverse=True)), Tag("A", "a"))


def _subscription(feed: Feed, kept: int, config: Any) -> Feed:
    pages = -(-(len(feed.entries) - kept) // config.archive_page_size)
    links = (("prev-archive", f"{feed.folder}archive/{pages}/"),) if pages else ()
    return replace(feed, entries=feed.entries[:kept], archive_links=links)


@pytest.mark.parametrize("formats", [("atom", "rss", "json"), ("rss", "json"), ("json",)],
                         ids=["every-format", "rss-and-json", "json-only"])
@pytest.mark.parametrize("authors", [False, True], ids=["tagged", "untagged-with-authors"])
def test_the_subscription_size_is_the_largest_that_fits(authors: bool,
                                                        formats: tuple[str, ...]) -> None:
    # Without tags and with authors, RSS is the largest file; with tags, Atom is. Only the
    # formats published count: without Atom, or with JSON Feed alone, more entries fit.
    lengths = [200, 3000, 150, 5000, 800, 4000, 100, 2500, 7000, 300, 1200, 600, 900, 50]
    feed = _feed([_entry(n, "<p>" + "x&y " * (length // 4) + "</p>",
                         author=f"Author {n}" if authors else None,
                         tags=() if authors else (Tag("A", "a"), Tag("Bé", "b")))
                  for n, length in enumerate(lengths)])
    config = replace(CONFIG, max_entries=12, archive_page_size=4, formats=formats)
    # by brute force: the size of the largest published file of the subscription feed of
    # each length
    largest = {kept: max(len(RENDERERS[name](_subscription(feed, kept, config), config))
                         for name in config.feed_files) for kept in range(1, 13)}
    for limit in sorted({size + delta for size in largest.values() for delta in (-1, 0)}
                        | {100, 10**7}):
        expected = max([kept for kept, size in largest.items() if size <= limit], default=0)
        assert subscription_size(feed, replace(config, max_feed_bytes=limit)) == expected, limit


def test_the_fast_path_needs_no_rendering_and_is_exact_when_everything_fits() -> None:
    feed = _feed([_entry(n, "<p>short</p>") for n in range(30)])
    config = replace(CONFIG, max_entries=20)
    assert SizeBounds(config).bound(replace(feed, entries=feed.entries[:20])) <= 512_000
    documents = split_feed(feed, config)
    assert [len(d.entries) for d in documents] == [20, 10]


_TEXT = st.text(st.one_of(st.sampled_from("&<>\"'\\\n\t\r"),
                          st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn"))),
                max_size=60)
"""Any text XML allows, half of it characters that XML or JSON escape."""


@given(st.text(st.one_of(st.sampled_from("&<>\"'\\\n\t\r"), st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc")))))
def test_text_sizes_are_the_escaped_sizes(text: str) -> None:
    """What XML text, an XML attribute and JSON make of a text: what the bounds start from."""
    xml = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") \
        .replace("\r", "&#13;")
    attribute = xml.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    escaped = json.dumps(text, ensure_ascii=False)[1:-1]
    assert text_sizes(text) == (len(xml.encode()), len(attribute.encode()),
                                len(escaped.encode()))


def _check_bound(texts: list[tuple[str, str, str, bool]], archived: int) -> None:
    """The bound that lets most feeds skip measuring holds for the head and every entry."""
    entries = [_entry(n, content * 20, title=title + "t", summary=summary,
                      author=(title or "Au") if author else None,
                      tags=(Tag(summary + "x", f"s{n}"), Tag("A", "a")))
               for n, (title, content, summary, author) in enumerate(texts)]
    feed = _feed(entries)
    links = (("prev-archive", f"tags/a/archive/{archived}/"),) if archived else ()
    feed = replace(feed, archive_links=links, hubs=("https://hub.example/&x",))
    sizes = SizeBounds(CONFIG)
    empty = replace(feed, entries=(), empty_updated=T0)
    rough = SizeBounds(CONFIG).rough_bound(feed)
    for render in RENDERERS.values():
        size = len(render(feed, CONFIG))
        assert size <= sizes.bound(feed) <= rough
        assert len(render(empty, CONFIG)) <= sizes.head(feed)
        for index, entry in enumerate(feed.entries):
            without = replace(feed, entries=feed.entries[:index] + feed.entries[index + 1:],
                              empty_updated=T0)
            assert size - len(render(without, CONFIG)) <= sizes.entry(entry, feed)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.tuples(_TEXT, _TEXT, _TEXT, st.booleans()), min_size=1, max_size=5),
       archived=st.integers(0, 3))
def test_the_size_bound_is_never_below_the_real_size(
        texts: list[tuple[str, str, str, bool]], archived: int) -> None:
    _check_bound(texts, archived)


@pytest.mark.parametrize("text", ["&<>\"'\\\n\t\r" * 40, "Ελλάδα 日本 😀" * 40, "plain " * 40],
                         ids=["escapes", "multi-byte", "plain"])
def test_the_size_bound_holds_for_long_text(text: str) -> None:
    _check_bound([(text, text * 5, text, True), (text[:9], text, "", False)], archived=12)


def test_a_build_uses_the_settings(tmp_path: Path) -> None:
    project = _make(tmp_path / "site", 12, f'base_url = "{BASE}"\nmax_entries = 3\n'
                                           "archive_page_size = 4\n")
    project.build()
    # 12 entries: 3 in the subscription feed, 9 archived in pages of 4, 4 and 1
    docs = walk(project.public, "", "feed.json")
    assert [len(doc.ids) for doc in docs] == [3, 1, 4, 4]

"""Read-back tests: build feeds from real briefs, parse them, check what readers see."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from feeder.brief import parse_brief
from feeder.config import Config, load_config
from feeder.pipeline import build
from feeder.site import Site
from feeder.sources import read_source, scan_content
from tests.conftest import NOW, REPO, Project, check_atom, house, jing, parse_feed

FORMATS = ("atom.xml", "rss.xml", "feed.json")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's sample content/ and feeder.toml, built into a temporary public/."""
    root = tmp_path_factory.mktemp("sample")
    shutil.copytree(REPO / "content", root / "content")
    shutil.copy(REPO / "feeder.toml", root / "feeder.toml")
    config, _ = load_config(root)
    build(config, now=NOW)
    return root


@pytest.fixture(scope="module")
def briefs(sample: Path) -> dict[str, Any]:
    """The sample briefs as parsed, by expected entry id."""
    config, _ = load_config(sample)
    infos = scan_content(config.content_dir, "content", config.max_brief_bytes)[0]
    result = {}
    for info in infos:
        source = read_source(info)
        brief, _ = parse_brief(source, config)  # type: ignore[arg-type]
        assert brief is not None
        result[f"tag:briefs.example.com,{brief.date:%Y-%m-%d}:{brief.slug}"] = brief
    return result


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_every_feed_parses_without_error(sample: Path) -> None:
    feeds = [f for f in sorted((sample / "public").rglob("*")) if f.name in FORMATS]
    tags = [p for p in (sample / "public" / "tags").iterdir() if p.is_dir()]
    assert len(feeds) == 3 * (1 + len(tags))
    for path in feeds:
        if path.name == "feed.json":
            assert json.loads(path.read_bytes())["items"], path
        else:
            assert parse_feed(path.read_bytes()).entries, path


def test_combined_atom_has_every_brief_newest_first(sample: Path, briefs: dict[str, Any]) -> None:
    feed = parse_feed((sample / "public" / "atom.xml").read_bytes())
    assert feed.version == "atom10"
    ids = [e.id for e in feed.entries]
    assert sorted(ids) == sorted(briefs)
    published = [datetime(*e.published_parsed[:6], tzinfo=timezone.utc) for e in feed.entries]
    assert published == sorted(published, reverse=True)
    assert feed.feed.title == "The Short of It"
    assert feed.feed.updated_parsed == max(e.updated_parsed for e in feed.entries)


@pytest.mark.parametrize("name", ["atom.xml", "rss.xml"])
def test_entries_carry_summary_content_dates_and_tags(sample: Path, briefs: dict[str, Any],
                                                      name: str) -> None:
    feed = parse_feed((sample / "public" / name).read_bytes())
    for entry in feed.entries:
        brief = briefs[entry.id]
        assert entry.title == brief.title
        assert entry.link == (f"https://briefs.example.com/{brief.date:%Y/%m/%d}/{brief.slug}/")
        assert datetime(*entry.published_parsed[:6], tzinfo=timezone.utc) == brief.date
        # the summary is the short version, the content the full text (both as HTML)
        summary_words = _text(entry.summary)
        assert summary_words
        assert summary_words in _text(entry.content[0].value)
        assert _text(entry.content[0].value).count(" ") > summary_words.count(" ")
        # Atom: term = slug; RSS: the tag's name (as most briefs spell it)
        terms = {t.term.casefold() for t in entry.tags}
        assert terms == {t.casefold().replace(" ", "-") for t in brief.tags}


def test_real_brief_entry(sample: Path) -> None:
    feed = parse_feed((sample / "public" / "tags" / "russia" / "atom.xml").read_bytes())
    entry = next(e for e in feed.entries if e.id.endswith(":radio-silent"))
    assert entry.id == "tag:briefs.example.com,2016-10-04:radio-silent"
    assert entry.title == "We Don't Talk Anymore: Russia and US Go Radio Silent"
    assert entry.published == "2016-10-04T00:00:00-04:00"
    assert entry.updated == "2016-10-04T00:00:00-04:00"
    assert entry.summary.startswith("<p>The US announced Monday that it didn't want to talk")
    assert entry.summary.endswith("calming of hostilities in Syria.</p>")
    content = entry.content[0]
    assert content.type == "text/html"
    assert content.value.startswith("<p>This conversation is over.</p>\n<h2>The Short of It</h2>")
    assert "<h3>Here's what happened</h3>" in content.value
    assert "<h2>The Takeaway</h2>" in content.value
    assert [(t.term, t.label) for t in entry.tags] == [
        ("russia", "russia"), ("us", "US"), ("politics", "politics")]


def test_rss_items(sample: Path) -> None:
    feed = parse_feed((sample / "public" / "rss.xml").read_bytes())
    assert feed.version == "rss20"
    assert feed.feed.link == "https://briefs.example.com/"  # the site, not the feed itself
    self_links = [link.href for link in feed.feed.links if link.rel == "self"]
    assert self_links == ["https://briefs.example.com/rss.xml"]
    raw = (sample / "public" / "rss.xml").read_text(encoding="utf-8")
    assert '<guid isPermaLink="false">tag:briefs.example.com,2016-10-04:radio-silent</guid>' in raw
    assert "<pubDate>Tue, 04 Oct 2016 00:00:00 -0400</pubDate>" in raw
    assert "<content:encoded>" in raw
    for entry in feed.entries:
        assert entry.guidislink is False
        assert entry.id.startswith("tag:briefs.example.com,2016-10-")


def test_tag_feeds_hold_exactly_their_briefs(sample: Path, briefs: dict[str, Any]) -> None:
    tags_dir = sample / "public" / "tags"
    slugs = sorted(p.name for p in tags_dir.iterdir() if p.is_dir())
    assert "us" in slugs  # `US` and `us` are one tag
    assert "US" not in slugs
    for slug in slugs:
        expected = {i for i, b in briefs.items()
                    if slug in {t.casefold().replace(" ", "-") for t in b.tags}}
        for name in ("atom.xml", "rss.xml"):
            feed = parse_feed((tags_dir / slug / name).read_bytes())
            assert {e.id for e in feed.entries} == expected, (slug, name)
        items = json.loads((tags_dir / slug / "feed.json").read_bytes())["items"]
        assert {item["id"] for item in items} == expected
    europe = parse_feed((tags_dir / "europe" / "atom.xml").read_bytes())
    assert europe.feed.title == "The Short of It: europe"  # spelled as most briefs spell it


def test_self_and_alternate_links(sample: Path) -> None:
    for folder, home in (("", "https://briefs.example.com/"),
                         ("tags/russia/", "https://briefs.example.com/tags/russia/")):
        for name in ("atom.xml", "rss.xml"):
            feed = parse_feed((sample / "public" / folder / name).read_bytes())
            links = {link.rel: link.href for link in feed.feed.get("links", [])}
            assert links["self"] == f"https://briefs.example.com/{folder}{name}"
            assert feed.feed.link == home
        data = json.loads((sample / "public" / folder / "feed.json").read_bytes())
        assert data["feed_url"] == f"https://briefs.example.com/{folder}feed.json"
        assert data["home_page_url"] == home


def test_every_url_is_absolute(sample: Path) -> None:
    for path in (sample / "public").rglob("*"):
        if path.name not in FORMATS:
            continue
        text = path.read_text(encoding="utf-8")
        for url in re.findall(r'(?:href|src)=(?:\\?"|&quot;)([^"&\\]*)', text):
            assert url.startswith("https://"), (path, url)
    aleppo = parse_feed((sample / "public" / "tags" / "syria" / "atom.xml").read_bytes())
    html = aleppo.entries[0].content[0].value
    assert 'href="https://briefs.example.com/2016/10/04/radio-silent/"' in html


def test_atom_validates_against_the_rfc4287_schema(sample: Path) -> None:
    paths = sorted((sample / "public").rglob("atom.xml"))
    for path in paths:
        check_atom(path.read_bytes())
    jing(paths)


def test_output_is_byte_identical_on_rebuild(project: Project) -> None:
    project.brief("2016-10-04-a.txt", house("A", "x, y"))
    project.brief("2016-10-05-b.txt", house("B", "y"))
    project.build()
    first = project.snapshot()
    report = project.build().report
    assert report.written == ()
    assert project.snapshot() == first


def test_same_day_briefs_have_a_deterministic_order(project: Project) -> None:
    for slug in ("c", "a", "b"):
        project.brief(f"2016-10-04-{slug}.txt", house(slug.upper(), "x"))
    project.build()
    feed = project.feed("atom.xml")
    assert [e.id for e in feed.entries] == [
        "tag:news.example.com,2016-10-04:c", "tag:news.example.com,2016-10-04:b",
        "tag:news.example.com,2016-10-04:a"]


def test_max_entries_limits_every_feed(project: Project) -> None:
    project.settings('base_url = "https://news.example.com/"\nmax_entries = 2\n')
    for day in range(1, 6):
        project.brief(f"2016-10-0{day}-b{day}.txt", house(f"B{day}", "x"))
    project.build()
    assert [e.title for e in project.feed("atom.xml").entries][:2] == ["B5", "B4"]
    assert len(project.feed("tags/x/rss.xml").entries) <= 2


def test_updated_from_front_matter_and_feed_updated_from_content(project: Project) -> None:
    project.brief("2016-10-04-a.txt", "---\nupdated: 2016-10-20T10:00:00Z\n---\n"
                  + house("A", "x"), dedent=False)
    project.brief("2016-10-05-b.txt", house("B", "x"))
    project.build()
    feed = project.feed("atom.xml")
    a = next(e for e in feed.entries if e.title == "A")
    assert a.updated == "2016-10-20T10:00:00+00:00"
    assert a.published == "2016-10-04T00:00:00+00:00"
    assert feed.feed.updated == "2016-10-20T10:00:00+00:00"  # never the build time
    rss = (project.public / "rss.xml").read_text(encoding="utf-8")
    assert "<lastBuildDate>Thu, 20 Oct 2016 10:00:00 +0000</lastBuildDate>" in rss


def test_author_in_every_format(project: Project) -> None:
    project.settings('base_url = "https://news.example.com/"\n'
                     '[author]\nname = "Desk"\nemail = "desk@news.example.com"\n')
    project.brief("2016-10-04-a.md", "---\nauthor: Dana Whitfield\n---\n" + house("A", "x"),
                  dedent=False)
    project.build()
    atom = project.feed("atom.xml")
    assert atom.feed.author_detail.name == "Desk"
    assert atom.entries[0].author == "Dana Whitfield"
    rss = (project.public / "rss.xml").read_text(encoding="utf-8")
    assert "<managingEditor>desk@news.example.com (Desk)</managingEditor>" in rss
    assert "<dc:creator>Dana Whitfield</dc:creator>" in rss
    check_atom((project.public / "atom.xml").read_bytes())


def test_drafts_and_future_briefs_wait(project: Project) -> None:
    project.brief("2016-10-04-a.txt", house("A", "x"))
    project.brief("2016-10-05-draft.md", "---\ndraft: true\n---\n" + house("Draft", "d"),
                  dedent=False)
    project.brief("2099-01-01-future.txt", house("Future", "f"))
    result = project.build()
    assert result.held_back == 2
    assert [e.title for e in project.feed("atom.xml").entries] == ["A"]
    assert not (project.public / "tags" / "d").exists()
    project.build(drafts=True, future=True)
    assert [e.title for e in project.feed("atom.xml").entries] == ["Future", "Draft", "A"]


def test_xml_forbidden_characters_never_reach_a_feed(project: Project) -> None:
    project.brief("2016-10-04-a.txt", "A\x01 title\x0c\n\nx\ufffe\n\nThe Short of It:\n\n"
                  "S\x1b.\n", dedent=False)
    project.build()
    for name in ("atom.xml", "rss.xml"):
        data = (project.public / name).read_bytes()
        etree.fromstring(data)
        assert parse_feed(data).entries[0].title == "A title"


def _archived_site(tmp_path: Path, settings: str = "") -> tuple[Site, Config]:
    """Eight briefs over two tags, every other one with an author, with markup and "&" in
    their titles and short versions, and archive pages; the Site and its settings."""
    from feeder.pipeline import collect

    project = Project(tmp_path / "site")
    project.settings('title = "T"\nbase_url = "https://t.example.com/"\nmax_entries = 3\n'
                     'archive_page_size = 2\n' + settings)
    for day in range(1, 9):
        author = f"author: A & B {day}\n" if day % 2 else ""
        project.brief(f"2016-10-{day:02d}-b{day}.md",
                      f"---\ntitle: <B{day}> & co\ndate: 2016-10-{day:02d}\n"
                      f"tags: [US, {'x' if day % 3 else 'y'}]\n{author}---\n\n"
                      f"The Short of It:\n\nShort {day} <em>&amp;</em>.\n\nLong {day}.\n")
    config = project.config()
    site = collect(config, now=NOW).site
    assert site is not None
    return site, config


def test_every_document_is_what_feedgen_writes_with_all_its_entries(tmp_path: Path) -> None:
    """Every document, archives, hubs and authors too, is byte for byte what feedgen writes
    with all its entries added to one generator (and the RSS profile's references)."""
    from feeder import feeds

    site, config = _archived_site(tmp_path, 'hubs = ["https://hub.example.com/"]\n')
    checked = set()
    for feed in site.feeds:
        for name, render, write in (("atom.xml", feeds.atom_bytes, "atom_str"),
                                    ("rss.xml", feeds.rss_bytes, "rss_str")):
            fg = feeds._generator(feed, config, name, rss=name == "rss.xml")
            dc = name == "rss.xml" and any(entry.author for entry in feed.entries)
            if dc:
                fg.load_extension("dc", atom=False, rss=True)
            for entry in feed.entries:
                if name == "atom.xml" and not entry.author:  # an Atom byline: the site's
                    entry = replace(entry, author=feeds._feed_author(config).name)
                feeds._add_entry(fg, entry, feed.tag_scheme, dc=dc)
            whole = bytes(getattr(fg, write)(pretty=True, encoding="UTF-8",
                                             xml_declaration=True)) + b"\n"
            if name == "rss.xml":
                whole = feeds._PLAIN_TEXT_ELEMENT.sub(feeds._hex_references, whole)
            assert render(feed, config) == whole, (feed.folder, name)
            checked.add((feed.archive, bool(feed.hubs), dc, bool(feed.entries)))
    assert {(True, False), (False, True)} <= {flags[:2] for flags in checked}
    assert any(flags[2] for flags in checked)

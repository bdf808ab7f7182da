"""The files briefs bring (feeder/attachments.py): which are published where, links, lead images.

The content folders are real folders on disk, listed as a build lists them; each URL given
is checked against where the file is published, and each link against the file it names.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from feeder import frontmatter
from feeder.attachments import (
    Asset,
    LeadImage,
    Link,
    brief_name,
    check_links,
    choose_lead,
    clashes,
    find_links,
    is_folder_brief,
    lead_image,
    plan_assets,
    published_url,
    resolve,
)
from feeder.errors import Problem
from feeder.images import image_info_of

BASE = "https://news.example.org/briefs/"


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 90, 160)).save(out, "PNG")
    return out.getvalue()


def listing(content: Path) -> dict[str, int]:
    """Every file under `content` with its size, as the build's scan lists them (hidden
    files and folders left out)."""
    found: dict[str, int] = {}
    for folder, folders, names in os.walk(content):
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in names:
            if not name.startswith("."):
                path = Path(folder) / name
                found[path.relative_to(content).as_posix()] = path.stat().st_size
    return found


@pytest.fixture
def content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    files = {
        "2016-10-14-aleppo/index.md": b"---\ntitle: Aleppo\n---\n![map](map.png)\n",
        "2016-10-14-aleppo/map.png": png(40, 30),
        "2016-10-14-aleppo/data/casualties.csv": b"day,count\n",
        "2016-10-15-draft/index.txt": b"A draft\n",
        "2016-10-15-draft/secret.png": png(2, 2),
        "2016-10-03-colombia.txt": b"Colombia\n\nworld\n\n![chart](img/vote.png)\n",
        "img/vote.png": png(64, 48),
        "img/Weird name (1) #2?.png": png(5, 5),
        "img/caf\u00e9.jpg": b"\xff\xd8",
        "img/.hidden.png": png(1, 1),
        ".git/config": b"[core]\n",
        "docs/report.pdf": b"%PDF-1.7\n",
        "notes.md": b"not an asset: a brief\n",
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


URLS = {
    "2016-10-14-aleppo/index.md": BASE + "2016/10/14/aleppo/",
    "2016-10-03-colombia.txt": BASE + "2016/10/03/colombia/",
    "notes.md": BASE + "2016/10/01/notes/",
}
"""The published briefs' page URLs (the draft is not published)."""


def fields(**named: tuple[object, int]) -> dict[str, frontmatter.Field]:
    """Front matter fields, as the parser reads them: key -> (value, line)."""
    return {key: frontmatter.Field(value, line) for key, (value, line) in named.items()}


def test_which_files_are_assets() -> None:
    files = ["img/map.png", "2016-10-14-aleppo/map.png", "docs/report.PDF", "folder/README",
             "2016-10-14-aleppo/index.md", "notes.markdown", "notes.txt", "img/.hidden.png",
             ".git/config"]
    assets, _ = plan_assets(dict.fromkeys(files, 1), BASE, URLS)
    assert set(assets) == set(files[:4])


def test_folder_briefs_take_their_name_from_the_folder() -> None:
    assert is_folder_brief("2016-10-14-aleppo/index.md")
    assert is_folder_brief("2016/10/2016-10-14-aleppo/index.txt")
    assert not is_folder_brief("index.md")  # at the top: a brief named "index"
    assert not is_folder_brief("2016-10-14-aleppo/index.png")
    assert not is_folder_brief("2016-10-14-aleppo/notes.md")
    assert brief_name("2016-10-14-aleppo/index.md") == "2016-10-14-aleppo.md"
    assert brief_name("2016/10/2016-10-14-aleppo/index.txt") == "2016-10-14-aleppo.txt"
    assert brief_name("2016-10-03-colombia.txt") == "2016-10-03-colombia.txt"


def test_both_layouts_are_published(content: Path) -> None:
    files = listing(content)
    assets, problems = plan_assets(files, BASE, URLS)
    assert problems == ()
    assert set(assets) == {
        "2016-10-14-aleppo/map.png", "2016-10-14-aleppo/data/casualties.csv",
        "img/vote.png", "img/Weird name (1) #2?.png", "img/caf\u00e9.jpg", "docs/report.pdf",
    }
    aleppo = assets["2016-10-14-aleppo/map.png"]
    assert aleppo == Asset("2016-10-14-aleppo/map.png", "2016/10/14/aleppo/map.png",
                           BASE + "2016/10/14/aleppo/map.png", files[aleppo.rel],
                           "2016-10-14-aleppo/index.md")
    assert assets["2016-10-14-aleppo/data/casualties.csv"].url \
        == BASE + "2016/10/14/aleppo/data/casualties.csv"
    assert assets["img/vote.png"].path == "img/vote.png"
    assert assets["img/vote.png"].url == BASE + "img/vote.png"
    assert assets["img/vote.png"].brief is None
    for asset in assets.values():  # every URL names the file at its path, under base_url
        assert asset.url.startswith(BASE)
        assert unquote(asset.url[len(BASE):]) == asset.path
        assert (content / asset.rel).stat().st_size == asset.size


def test_unsafe_file_names_are_percent_encoded_not_refused(content: Path) -> None:
    assets, _ = plan_assets(listing(content), BASE, URLS)
    assert assets["img/Weird name (1) #2?.png"].url \
        == BASE + "img/Weird%20name%20%281%29%20%232%3F.png"
    assert assets["img/caf\u00e9.jpg"].url == BASE + "img/caf%C3%A9.jpg"
    assets, _ = plan_assets({"a b/c#d": 1}, BASE, {})
    assert assets["a b/c#d"].url == BASE + "a%20b/c%23d"


def test_an_unpublished_folder_brief_publishes_none_of_its_files(content: Path) -> None:
    files = listing(content)
    assets, _ = plan_assets(files, BASE, URLS)
    assert "2016-10-15-draft/secret.png" not in assets
    links = (Link("2016-10-15-draft/secret.png", 4, image=True),)
    [problem] = check_links("content/notes.md", "notes.md", links, files, assets)
    assert str(problem) == ("content/notes.md:4: warning: image '2016-10-15-draft/"
                            "secret.png' names a file that is not published (its brief is not)")


def test_attachments_over_the_limit_are_errors(content: Path) -> None:
    files = listing(content)
    assets, problems = plan_assets(files, BASE, URLS, max_bytes=100)
    assert "img/vote.png" not in assets
    assert "docs/report.pdf" in assets
    assert f"content/img/vote.png: file is {files['img/vote.png']:,} bytes, over the limit " \
           "of 100 (setting max_asset_bytes)" in [str(p) for p in problems]
    assert all(p.is_error for p in problems)


def test_two_files_published_at_one_path_are_an_error() -> None:
    files = {"2016-10-14-aleppo/index.md": 10, "2016-10-14-aleppo/map.png": 10,
             "2016/10/14/aleppo/map.png": 10, "img/a.png": 1, "img/A.png": 1}
    assets, problems = plan_assets(files, BASE, URLS)
    assert [str(p) for p in problems] == [
        "content/2016/10/14/aleppo/map.png: published at 2016/10/14/aleppo/map.png, as "
        "content/2016-10-14-aleppo/map.png is; rename one of them",
        "content/img/a.png: published at img/a.png, as content/img/A.png is; rename one of "
        "them",  # one file on a case-insensitive disk or server
    ]
    assert len(assets) == 2


def test_attachments_where_feeds_and_pages_go_are_errors() -> None:
    assets, _ = plan_assets({"atom.xml": 5, "tags/index.html": 5, "img/a.png": 5}, BASE, {})
    problems = clashes(assets.values(), {"atom.xml", "tags/index.html", "index.html"})
    assert [str(p) for p in problems] == [
        "content/atom.xml: published at atom.xml, where feeder writes another file (a page, a "
        "feed, a file of static/); rename or move it",
        "content/tags/index.html: published at tags/index.html, where feeder writes another "
        "file (a page, a feed, a file of static/); rename or move it",
    ]


TEXT = """\
---
title: Links of every kind
summary: "A [summary link](img/vote.png)"
---
An ![inline image](img/vote.png "Vote") and a [link](docs/report.pdf#page=3), a
[link over
two lines](img/missing.png), [absolute](https://example.com/x.png), [mail](mailto:a@b.c),
[root](/statements/), [anchor](#top), [up](../outside.png), ![wiki](img/a_(b).png).

`![in code](img/code.png)` and:

```
![in a fence](img/fenced.png)
```

<img src="img/vote.png" alt="An &quot;HTML&quot; image"> <a href='docs/report.pdf'>report</a>
<video src=clip.mp4 poster="img/poster.png"></video>

![reference image][chart] and [a reference][ref] and ![shortcut]

[chart]: img/chart.png
[ref]: <docs/my report.pdf> "Title"
[shortcut]: img/shortcut.png
"""


def test_links_and_images_with_their_lines() -> None:
    found = [(link.target, link.line, link.image, link.alt) for link in find_links(TEXT)]
    assert found == [
        ("img/vote.png", 3, False, "summary link"),
        ("img/vote.png", 5, True, "inline image"),
        ("docs/report.pdf#page=3", 5, False, "link"),
        ("img/missing.png", 7, False, "link over\ntwo lines"),
        ("https://example.com/x.png", 7, False, "absolute"),
        ("mailto:a@b.c", 7, False, "mail"),
        ("/statements/", 8, False, "root"),
        ("#top", 8, False, "anchor"),
        ("../outside.png", 8, False, "up"),
        ("img/a_(b).png", 8, True, "wiki"),
        ("img/vote.png", 16, True, 'An "HTML" image'),
        ("docs/report.pdf", 16, False, ""),
        ("clip.mp4", 17, False, ""),
        ("img/poster.png", 17, False, ""),
        ("img/chart.png", 19, True, "reference image"),
        ("img/shortcut.png", 19, True, "shortcut"),
        ("img/chart.png", 21, False, ""),
        ("docs/my report.pdf", 22, False, ""),
        ("img/shortcut.png", 23, False, ""),
    ]


def test_links_resolve_against_the_brief_file() -> None:
    assert resolve("2016-10-14-aleppo/index.md", "map.png") == "2016-10-14-aleppo/map.png"
    assert resolve("2016-10-14-aleppo/index.md", "./data/../map.png?v=2#x") \
        == "2016-10-14-aleppo/map.png"
    assert resolve("2016-10-14-aleppo/index.md", "../img/vote.png") == "img/vote.png"
    assert resolve("2016-10-03-colombia.txt", "img/my%20chart.png") == "img/my chart.png"
    assert resolve("2016-10-03-colombia.txt", "../etc/passwd") == "../etc/passwd"
    assert resolve("a/b.md", "../../x") == "../x"
    for target in ("https://example.com/a.png", "//cdn.example.com/a.png", "/img/a.png",
                   "#top", "mailto:x@y.z", "data:image/png;base64,AA==", "", "?page=2"):
        assert resolve("2016-10-03-colombia.txt", target) is None


def test_links_point_where_the_files_are_published(content: Path) -> None:
    """The URL of a relative link depends on the brief alone (its HTML is made once), and is
    where plan_assets publishes the file it names."""
    assets, _ = plan_assets(listing(content), BASE, URLS)
    aleppo, page = "2016-10-14-aleppo/index.md", URLS["2016-10-14-aleppo/index.md"]
    colombia = "2016-10-03-colombia.txt"

    def url(brief: str, target: str) -> str | None:
        return published_url(brief, URLS[brief], BASE, target)

    assert url(aleppo, "map.png") == page + "map.png" == assets[resolve(aleppo, "map.png")
                                                                 or ""].url
    assert url(aleppo, "./data/casualties.csv") == assets[
        "2016-10-14-aleppo/data/casualties.csv"].url
    assert url(aleppo, "../img/vote.png") == BASE + "img/vote.png" == assets["img/vote.png"].url
    assert url(colombia, "docs/report.pdf#page=3") == BASE + "docs/report.pdf#page=3"
    assert url(colombia, "img/Weird%20name%20(1)%20%232%3F.png") \
        == assets["img/Weird name (1) #2?.png"].url
    assert url(colombia, "img/missing.png") == BASE + "img/missing.png"  # (a warning)
    for target in ("https://example.com/", "/statements/", "#top", "../../up.png", "."):
        assert url(colombia, target) is None
    assert url(colombia, "2016/10/05/other/") == BASE + "2016/10/05/other/"
    for rel, asset in assets.items():  # every published file, from any brief
        assert url(colombia, quote(rel)) == asset.url or asset.brief is not None
        if asset.brief is not None:
            own = rel[len(asset.brief) - len("index.md"):]
            assert url(asset.brief, quote(own)) == asset.url


def test_missing_and_escaping_links_are_reported_with_their_lines(content: Path) -> None:
    files = listing(content)
    assets, _ = plan_assets(files, BASE, URLS)
    text = ("Title\n\nworld\n\n![chart](img/vote.png) [report](docs/report.pdf)\n"
            "![typo](img/vtoe.png)\n[up](../../secrets.txt) and [hidden](img/.hidden.png)\n"
            "[source](notes.md) [web](https://example.com/nothing.png)\n")
    problems = check_links("content/2016-10-03-colombia.txt", "2016-10-03-colombia.txt",
                           find_links(text), files, assets)
    assert [str(p) for p in problems] == [
        "content/2016-10-03-colombia.txt:6: warning: image 'img/vtoe.png' names no file: "
        "img/vtoe.png is not in the content folder; did you mean 'vote.png'?",
        "content/2016-10-03-colombia.txt:7: link '../../secrets.txt' leaves the content "
        "folder; only files inside it are published",
        "content/2016-10-03-colombia.txt:7: warning: link 'img/.hidden.png' names a hidden "
        "file, which is never published",
        "content/2016-10-03-colombia.txt:8: warning: link 'notes.md' names a brief's text, "
        "which is not published: link to the brief's page",
    ]
    assert [p.is_error for p in problems] == [False, True, False, False]


def test_the_first_image_is_the_lead_image(content: Path) -> None:
    files = listing(content)
    assets, _ = plan_assets(files, BASE, URLS)
    infos = {rel: image_info_of((content / rel).read_bytes()) for rel in files}
    links = find_links("Title\n\ntags\n\nText [a link](docs/report.pdf).\n\n"
                       "![The vote, by region](img/vote.png)\n\n![second](img/caf%C3%A9.jpg)\n")
    lead, problems = choose_lead("b.txt", {}, links)
    assert problems == ()
    assert lead == Link("img/vote.png", 7, True, "The vote, by region")
    assert lead_image(lead, "b.txt", assets, infos) == LeadImage(
        BASE + "img/vote.png", "The vote, by region", "image/png", files["img/vote.png"], 64, 48)
    aleppo = find_links((content / "2016-10-14-aleppo/index.md").read_text())
    lead, _ = choose_lead("a", {}, aleppo)
    assert lead is not None
    assert lead_image(lead, "2016-10-14-aleppo/index.md", assets, infos) == LeadImage(
        BASE + "2016/10/14/aleppo/map.png", "map", "image/png",
        files["2016-10-14-aleppo/map.png"], 40, 30)
    assert choose_lead("b.txt", {}, find_links("No image [a](b.png)\n")) == (None, ())
    missing = Link("elsewhere/absent.gif", 3, True)
    assert lead_image(missing, "b.txt", assets, infos) is None
    assert [str(p) for p in check_links("b.txt", "b.txt", (), files, assets, missing)] == [
        "b.txt:3: warning: image 'elsewhere/absent.gif' names no file: elsewhere/absent.gif is "
        "not in the content folder"]


def test_front_matter_names_the_lead_image_or_turns_it_off(content: Path) -> None:
    files = listing(content)
    assets, _ = plan_assets(files, BASE, URLS)
    infos = {rel: image_info_of((content / rel).read_bytes()) for rel in files}
    links = find_links("![first](../img/vote.png)\n")
    brief = "2016-10-14-aleppo/index.md"
    lead, problems = choose_lead("a", fields(image=("map.png", 2),
                                             image_alt=("Aleppo, east and west", 3)), links)
    assert problems == ()
    assert lead == Link("map.png", 2, True, "Aleppo, east and west")
    found = lead_image(lead, brief, assets, infos)
    assert found is not None
    assert (found.url, found.alt, found.width) == (BASE + "2016/10/14/aleppo/map.png",
                                                   "Aleppo, east and west", 40)
    lead, _ = choose_lead("a", fields(image=("../img/vote.png", 2)), links)
    assert lead == Link("../img/vote.png", 2, True, "first")  # the alt text of the text's
    lead, _ = choose_lead("a", fields(image=("https://cdn.example.com/p/Photo.JPG", 2)), links)
    assert lead is not None
    assert lead_image(lead, brief, assets, infos) == LeadImage(
        "https://cdn.example.com/p/Photo.JPG", "", "image/jpeg", None, None, None)
    for off in ("none", "None", False):
        assert choose_lead("a", fields(image=(off, 2)), links) == (None, ())


@pytest.mark.parametrize(("image", "alt", "message"), [
    ("javascript:alert(1)", None, "a:2: image 'javascript:alert(1)' must be a path relative to "
                                  "the brief or an http: or https: URL"),
    ("nothere.png", None, "a:2: warning: image 'nothere.png' names no file: "
                          "2016-10-14-aleppo/nothere.png is not in the content folder"),
    ("../../x.png", None, "a:2: image '../../x.png' leaves the content folder; only files "
                          "inside it are published"),
    ("../docs/report.pdf", None, "a:2: warning: image '../docs/report.pdf' is not a picture "
                                 "(PNG, JPEG, GIF, WebP, SVG or AVIF)"),
    (["a.png"], None, "a:2: image must be a path or an https: URL, or none"),
    ("map.png", ["x"], "a:3: image_alt must be text"),
])
def test_bad_lead_images(content: Path, image: object, alt: object, message: str) -> None:
    files = listing(content)
    assets, _ = plan_assets(files, BASE, URLS)
    brief = "2016-10-14-aleppo/index.md"
    named = fields(image=(image, 2), **({} if alt is None else {"image_alt": (alt, 3)}))
    lead, problems = choose_lead("a", named, ())
    problems += check_links("a", brief, (), files, assets, lead)
    assert [str(p) for p in problems] == [message]
    assert lead is None or lead_image(lead, brief, assets, {}) is None


def test_a_file_of_another_folder_brief_is_linked_from_its_brief_only(content: Path) -> None:
    files = listing(content)
    assets, _ = plan_assets(files, BASE, URLS)
    links = find_links("![map](2016-10-14-aleppo/map.png)\n")
    assert [str(p) for p in check_links("c.txt", "2016-10-03-colombia.txt", links, files,
                                        assets)] == [
        "c.txt:1: warning: image '2016-10-14-aleppo/map.png' names a file published with "
        "2016-10-14-aleppo/index.md: link it from that brief, or move it to a shared folder"]


SAMPLES = Path(__file__).parent.parent / "content"
"""The sample content, with two briefs with pictures: one a folder with its chart beside it,
one using the shared folder img/."""


def test_the_sample_briefs_link_only_published_pictures() -> None:
    files = listing(SAMPLES)
    urls = {"2016-10-10-matthew-by-the-numbers/index.txt":
            BASE + "2016/10/10/matthew-by-the-numbers/",
            "2016-10-06-colombia-vote-in-numbers.md":
            BASE + "2016/10/06/colombia-vote-in-numbers/"}
    assets, problems = plan_assets(files, BASE, urls)
    assert problems == ()
    assert {asset.url for asset in assets.values()} == {
        BASE + "2016/10/10/matthew-by-the-numbers/matthew-winds.png",
        BASE + "img/colombia-referendum.png"}
    infos = {rel: image_info_of((SAMPLES / rel).read_bytes()) for rel in assets}
    leads = []
    for rel in urls:
        text = (SAMPLES / rel).read_text(encoding="utf-8")
        links = find_links(text)
        assert check_links(rel, rel, links, files, assets) == ()
        read = frontmatter.read(text, rel)
        assert not isinstance(read, Problem)
        fields = read[0]
        lead, problems = choose_lead(rel, fields, links)
        assert problems == ()
        assert lead is not None
        assert check_links(rel, rel, links, files, assets, lead) == ()
        image = lead_image(lead, rel, assets, infos)
        assert image is not None
        leads.append(image)
    matthew, colombia = leads
    assert (matthew.url, matthew.media_type, matthew.width, matthew.height) == (
        BASE + "2016/10/10/matthew-by-the-numbers/matthew-winds.png", "image/png", 1200, 630)
    assert matthew.alt.startswith("Bar chart of Hurricane Matthew's top sustained winds")
    assert (colombia.url, colombia.width, colombia.height) == (
        BASE + "img/colombia-referendum.png", 1200, 630)
    assert colombia.alt.endswith("6,377,482 for Yes (49.8%)")  # image_alt, not the text's


def test_only_paths_and_web_urls_are_lead_images() -> None:
    links = find_links("![x](javascript:alert(1)) ![y](data:image/png;base64,AA==) "
                       "![z](img/vote.png)\n")
    lead, _ = choose_lead("b.txt", {}, links)
    assert lead == Link("img/vote.png", 1, True, "z")
    assert choose_lead("b.txt", {}, links[:2]) == (None, ())
    assert lead_image(Link("javascript:alert(1)", 1, True), "b.txt", {}, {}) is None
    assert lead_image(Link("//cdn.example/x.png", 1, True), "b.txt", {}, {}) is None


def test_footnotes_are_not_links() -> None:
    assert find_links("A note.[^1]\n\n[^1]: The note, [linked](a.png).\n") == (
        Link("a.png", 3, False, "linked"),)


def test_no_links_in_code_or_comments() -> None:
    text = ("`[a](one.png)` ``x ` [b](two.png) ``\n\n<!-- ![c](three.png)\n-->\n"
            "~~~\n[d](four.png)\n~~~\n\n`unclosed [e](five.png)\n\n[f](six.png)\n")
    assert [(link.target, link.line) for link in find_links(text)] \
        == [("five.png", 9), ("six.png", 11)]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="[]()!<>`~\n #\"'=:/.ab", max_size=300))
def test_any_text_gives_links_within_it(text: str) -> None:
    lines = text.count("\n") + 1
    for link in find_links(text):
        assert 1 <= link.line <= lines
        assert "\n" not in link.target


@given(st.lists(st.text(st.characters(exclude_categories=("Cs",), exclude_characters="/\0"),
                        min_size=1, max_size=12), min_size=1, max_size=4))
def test_any_file_name_makes_a_url_of_that_name(parts: list[str]) -> None:
    path = "/".join("f" + part for part in parts)
    assets, _ = plan_assets({path: 1}, BASE, {})
    for asset in assets.values():
        url = asset.url.removeprefix(BASE)
        assert unquote(url) == path
        assert all(char.isascii() and (char.isalnum() or char in "-._~%/") for char in url)

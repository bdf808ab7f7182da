"""`feeder tags`, `feeder new` and `feeder serve`."""

from __future__ import annotations

import json
import re
import socket
from datetime import datetime, timezone
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner, Result

from feeder import cli as cli_module
from feeder.cli import cli
from feeder.serve import media_type
from tests.conftest import NOW, Project, house
from tests.serving import feeder_serve, fetch, serve_folder, wait_for

BASE = "https://news.example.com/"


def run(runner: CliRunner, project: Project, *args: str) -> Result:
    return runner.invoke(cli, [*args, "-C", str(project.root)])


def failed(result: Result, code: int) -> None:
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


# --- feeder tags -----------------------------------------------------------------------------

@pytest.fixture
def tagged(project: Project) -> Project:
    project.brief("2016-10-04-a.txt", house("A", "Russia, US"))
    project.brief("2016-10-05-b.txt", house("B", "us"))
    project.brief("2016-10-06-c.txt", house("C", "日本"))
    return project


def test_tags_prints_a_table(runner: CliRunner, tagged: Project) -> None:
    result = run(runner, tagged, "tags")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "TAG     BRIEFS  SLUG    FORMAT     FEED URL",
        f"Russia       1  russia  Atom       {BASE}tags/russia/atom.xml",
        f"                        RSS        {BASE}tags/russia/rss.xml",
        f"                        JSON Feed  {BASE}tags/russia/feed.json",
        f"US           2  us      Atom       {BASE}tags/us/atom.xml",
        f"                        RSS        {BASE}tags/us/rss.xml",
        f"                        JSON Feed  {BASE}tags/us/feed.json",
        f"日本         1  日本    Atom       {BASE}tags/%E6%97%A5%E6%9C%AC/atom.xml",
        f"                        RSS        {BASE}tags/%E6%97%A5%E6%9C%AC/rss.xml",
        f"                        JSON Feed  {BASE}tags/%E6%97%A5%E6%9C%AC/feed.json",
        "3 tags",
    ]
    assert result.stderr == ""
    assert not tagged.public.exists()  # it only reads


def test_tags_json_is_for_scripts(runner: CliRunner, tagged: Project) -> None:
    result = run(runner, tagged, "tags", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(t["name"], t["slug"], t["count"]) for t in data] == [
        ("Russia", "russia", 1), ("US", "us", 2), ("日本", "日本", 1)]
    assert data[1] == {
        "name": "US", "slug": "us", "count": 2, "page": BASE + "tags/us/",
        "feeds": {"atom": BASE + "tags/us/atom.xml", "rss": BASE + "tags/us/rss.xml",
                  "json": BASE + "tags/us/feed.json"}}


def test_tags_lists_the_published_formats_only(runner: CliRunner, tagged: Project) -> None:
    tagged.settings(f'base_url = "{BASE}"\nformats = ["json", "rss"]\n')
    table = run(runner, tagged, "tags")
    assert table.exit_code == 0, table.output
    assert table.stdout.splitlines()[1:3] == [
        f"Russia       1  russia  RSS        {BASE}tags/russia/rss.xml",
        f"                        JSON Feed  {BASE}tags/russia/feed.json"]
    assert "atom" not in table.stdout
    listed = run(runner, tagged, "tags", "--json")
    assert json.loads(listed.stdout)[1]["feeds"] == {"rss": BASE + "tags/us/rss.xml",
                                                     "json": BASE + "tags/us/feed.json"}


def test_tags_with_a_bad_brief_lists_the_rest_and_exits_1(runner: CliRunner,
                                                         tagged: Project) -> None:
    tagged.brief("undated.txt", house("Undated", "x"))
    result = run(runner, tagged, "tags", "--json")
    failed(result, 1)
    assert [t["slug"] for t in json.loads(result.stdout)] == ["russia", "us", "日本"]
    assert result.stderr.startswith("content/undated.txt:1: no date:")


def test_tags_of_an_untagged_publication(runner: CliRunner, project: Project) -> None:
    project.brief("2016-10-04-a.md", "---\ntitle: A\ntags: []\n---\nText.\n", dedent=False)
    assert run(runner, project, "tags").stdout == "no tags: no published brief has a tag\n"
    assert run(runner, project, "tags", "--json").stdout == "[]\n"


# --- feeder new ------------------------------------------------------------------------------

@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """`feeder new` reads the clock in cli.py; here it says NOW (2026-11-26 12:00 UTC)."""
    monkeypatch.setattr(cli_module, "utc_now", lambda: NOW)


@pytest.mark.usefixtures("clock")
def test_new_creates_a_dated_brief_in_the_house_layout(
        runner: CliRunner, project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project.root)
    result = runner.invoke(cli, ["new", "Radio Silent: Russia & US", "--tag", "russia, US",
                                 "-t", "politics", "--publish"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "content/2026-11-26-radio-silent-russia-us.txt\n"
    path = project.content / "2026-11-26-radio-silent-russia-us.txt"
    assert path.read_text(encoding="utf-8") == (
        "Radio Silent: Russia & US\n\nrussia, US, politics\n\n"
        "The Short of It:\n\n\n\nThe Longer Version of It:\n\n\n\nThe Takeaway:\n\n")
    # filled in, it is a brief like any other, dated today
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("The Short of It:\n\n", "The Short of It:\n\nThe short.")
                    .replace("The Takeaway:\n\n", "The Takeaway:\n\nThe end.\n"),
                    encoding="utf-8")
    project.build()
    entry = project.feed("tags/politics/atom.xml").entries[0]
    assert entry.title == "Radio Silent: Russia & US"
    assert entry.published == "2026-11-26T00:00:00+00:00"
    assert entry.summary == "<p>The short.</p>"
    assert entry.link == BASE + "2026/11/26/radio-silent-russia-us/"


@pytest.mark.usefixtures("clock")
def test_new_dates_the_brief_in_the_timezone_setting(runner: CliRunner,
                                                     project: Project) -> None:
    project.settings('base_url = "https://news.example.com/"\ntimezone = "Pacific/Auckland"\n')
    result = run(runner, project, "new", "Late", "--tag", "x")
    assert result.exit_code == 0, result.output
    # 12:00 UTC on the 26th is already the 27th in Auckland (UTC+13)
    assert (project.content / "2026-11-27-late.txt").is_file()


@pytest.mark.usefixtures("clock")
def test_new_refuses_to_overwrite(runner: CliRunner, project: Project) -> None:
    assert run(runner, project, "new", "Same", "-t", "x").exit_code == 0
    path = project.content / "2026-11-26-same.txt"
    path.write_text("my draft\n", encoding="utf-8")
    result = run(runner, project, "new", "Same", "-t", "y")
    failed(result, 1)
    assert result.stderr == ("content/2026-11-26-same.txt: already exists; not overwriting it "
                             "(edit it, or give this brief another --slug)\n")
    assert path.read_text(encoding="utf-8") == "my draft\n"
    # a brief with the same date and slug in Markdown would clash with it just as much
    project.brief("2026-11-26-other.md", "---\ntitle: O\ntags: [x]\n---\nText.\n", dedent=False)
    result = run(runner, project, "new", "Other", "-t", "x")
    failed(result, 1)
    assert result.stderr.startswith("content/2026-11-26-other.md: already exists;")
    assert not (project.content / "2026-11-26-other.txt").exists()


@pytest.mark.usefixtures("clock")
def test_new_with_slug_date_and_draft(runner: CliRunner, project: Project) -> None:
    result = run(runner, project, "new", "Über the moon", "-t", "space", "--slug", "Moon Shot",
                 "--date", "2016-10-07", "--draft")
    assert result.exit_code == 0, result.output
    path = project.content / "2016-10-07-moon-shot.txt"
    assert path.read_text(encoding="utf-8").startswith(
        "---\ndraft: true\n---\nÜber the moon\n\nspace\n\nThe Short of It:\n")
    project.brief("2016-10-04-a.txt", house("A", "x"))
    project.build()
    assert [e.title for e in project.feed("atom.xml").entries] == ["A"]  # the draft waits
    project.build(drafts=True)
    assert [e.title for e in project.feed("atom.xml").entries] == ["Über the moon", "A"]


@pytest.mark.usefixtures("clock")
def test_new_uses_the_section_labels_setting(runner: CliRunner, project: Project) -> None:
    project.settings('base_url = "https://news.example.com/"\n'
                     'summary_labels = ["In Short"]\nsection_labels = ["Details", "Why"]\n')
    assert run(runner, project, "new", "T", "-t", "x", "--publish").exit_code == 0
    assert (project.content / "2026-11-26-t.txt").read_text(encoding="utf-8") == (
        "T\n\nx\n\nIn Short:\n\n\n\nDetails:\n\n\n\nWhy:\n\n")


@pytest.mark.parametrize(("args", "message"), [
    (["Hi"], "feeder new: give at least one tag: --tag TAG (repeat it, or separate tags with "
             "commas)"),
    (["Hi", "-t", " , "], "feeder new: give at least one tag: --tag TAG (repeat it, or separate "
                          "tags with commas)"),
    (["???", "-t", "x"], "feeder new: the title '???' has no letter or digit to make a file "
                         "name from; give one with --slug"),
    (["  ", "-t", "x"], "feeder new: the title is empty"),
    (["Hi", "-t", "x" * 51], "content/2026-11-26-hi.txt:6: tag"),
    (["Hi", "-t", "x" * 51, "--publish"], "content/2026-11-26-hi.txt:3: tag"),
], ids=["no-tag", "empty-tag", "no-slug", "no-title", "long-tag", "long-tag-published"])
@pytest.mark.usefixtures("clock")
def test_new_refuses_what_would_not_build(runner: CliRunner, project: Project,
                                          args: list[str], message: str) -> None:
    result = run(runner, project, "new", *args)
    failed(result, 2)
    assert result.stderr.startswith(message)
    assert list(project.content.iterdir()) == []


# --- feeder serve: the HTTP side -------------------------------------------------------------

@pytest.fixture
def built(project: Project) -> Project:
    project.brief("2016-10-04-a.txt", house("A", "Ελλάδα"))
    project.build()
    return project


@pytest.mark.parametrize(("path", "expected"), [
    ("/atom.xml", "application/atom+xml"),
    ("/rss.xml", "application/rss+xml"),
    ("/feed.json", "application/feed+json"),
    ("/feeds.opml", "text/x-opml; charset=utf-8"),
    ("/", "text/html; charset=utf-8"),
    ("/style.css", "text/css; charset=utf-8"),
    ("/tags/%CE%B5%CE%BB%CE%BB%CE%AC%CE%B4%CE%B1/atom.xml", "application/atom+xml"),
    ("/tags/%CE%B5%CE%BB%CE%BB%CE%AC%CE%B4%CE%B1/", "text/html; charset=utf-8"),
])
def test_attachments_are_served_with_their_media_types(built: Project, path: str,
                                                 expected: str) -> None:
    with serve_folder(built.public) as url:
        response = fetch(url + path.lstrip("/"))
    assert response.status == 200
    assert response.headers["content-type"] == expected
    rel = unquote(path.lstrip("/"))
    rel += "index.html" if rel.endswith("/") or not rel else ""
    assert response.body == (built.public / rel).read_bytes()
    assert response.headers["content-length"] == str(len(response.body))


def test_media_types_of_other_files() -> None:
    assert media_type("archive.xml") == "application/xml"
    assert media_type("photo.png") == "image/png"
    assert media_type("README") == "application/octet-stream"


def test_conditional_get_answers_304(built: Project) -> None:
    with serve_folder(built.public) as url:
        first = fetch(url + "atom.xml")
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
        mtime = (built.public / "atom.xml").stat().st_mtime
        assert parsedate_to_datetime(modified).timestamp() == int(mtime)
        same = fetch(url + "atom.xml", {"If-None-Match": etag})
        assert (same.status, same.body, same.headers["etag"]) == (304, b"", etag)
        assert fetch(url + "atom.xml", {"If-None-Match": f'"x", W/{etag}'}).status == 304
        assert fetch(url + "atom.xml", {"If-None-Match": '"other"'}).status == 200
        assert fetch(url + "atom.xml", {"If-Modified-Since": modified}).status == 304
        older = formatdate(mtime - 3600, usegmt=True)
        assert fetch(url + "atom.xml", {"If-Modified-Since": older}).status == 200
        assert fetch(url + "atom.xml", {"If-Modified-Since": "yesterday"}).status == 200
        # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
        assert fetch(url + "atom.xml", {"If-None-Match": '"other"',
                                        "If-Modified-Since": modified}).status == 200
        head = fetch(url + "atom.xml", method="HEAD")
        assert (head.status, head.body, head.headers["etag"]) == (200, b"", etag)


def test_folders_missing_files_and_hidden_files(built: Project) -> None:
    with serve_folder(built.public) as url:
        moved = fetch(url + "tags")
        assert (moved.status, moved.headers["location"]) == (301, "/tags/")
        assert fetch(url + "tags/").body == (built.public / "tags/index.html").read_bytes()
        assert fetch(url + "nothing.xml").status == 404
        assert fetch(url + ".feeder-manifest.json").status == 404
        assert fetch(url + "%2e%2e/feeder.toml").status == 404
        assert fetch(url + "tags/../../feeder.toml").status == 404


def test_a_port_in_use_is_a_usage_error(runner: CliRunner, built: Project) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(runner, built, "serve", "--port", str(port))
    failed(result, 2)
    assert result.stderr.startswith(f"--port: cannot serve on 127.0.0.1:{port}: ")


# --- feeder serve: the command, rebuilding on changes ----------------------------------------

def test_serve_builds_serves_and_rebuilds_on_every_change(project: Project) -> None:
    project.brief("2016-10-04-a.txt", house("A", "x"))
    with feeder_serve(project.root) as served:
        served.wait_for_output("built public: ")
        index = fetch(served.url)
        assert index.status == 200
        assert b"<h1>Test Briefs</h1>" in index.body
        etag = fetch(served.url + "atom.xml").headers["etag"]

        # a new brief: its tag page appears and the combined feed changes
        seen = len(served.stderr)
        project.brief("2016-10-05-b.txt", house("B", "new-tag"))
        served.wait_for_output("rebuilt public: ", after=seen)
        assert fetch(served.url + "tags/new-tag/").status == 200
        changed = fetch(served.url + "atom.xml", {"If-None-Match": etag})
        assert changed.status == 200
        assert b"<title>B</title>" in changed.body

        # a broken brief: its problems are printed and the last good build stays served
        seen = len(served.stderr)
        bad = project.brief("2016-10-06-bad.txt", "Bad\n")
        served.wait_for_output("build failed; still serving the last good build", after=seen)
        assert "content/2016-10-06-bad.txt:" in served.stderr[seen:]
        assert fetch(served.url + "tags/new-tag/").status == 200
        bad.unlink()
        served.wait_for_output("rebuilt public: ", after=seen)

        # the settings: a new title
        seen = len(served.stderr)
        project.settings('title = "Renamed"\nbase_url = "https://news.example.com/"\n')
        served.wait_for_output("rebuilt public: ", after=seen)
        assert b"<h1>Renamed</h1>" in fetch(served.url).body

        # a template override, in a templates/ folder made while serving
        seen = len(served.stderr)
        (project.root / "templates").mkdir()
        (project.root / "templates" / "style.css").write_text("body { color: red; }\n",
                                                              encoding="utf-8")
        wait_for(lambda: fetch(served.url + "style.css").body == b"body { color: red; }\n",
                 60, "the new stylesheet")
        assert served.process.poll() is None
    assert served.process.returncode == 0
    assert "Traceback" not in served.stderr


def test_serve_starts_even_when_the_first_build_fails(project: Project) -> None:
    project.brief("2016-10-04-bad.txt", "Bad\n")
    with feeder_serve(project.root) as served:
        served.wait_for_output("build failed; serving what the output folder holds")
        assert fetch(served.url).status == 404
        seen = len(served.stderr)
        project.brief("2016-10-04-bad.txt", house("Fixed", "x"))
        served.wait_for_output("rebuilt public: ", after=seen)
        assert fetch(served.url).status == 200


def test_the_date_of_a_new_brief_comes_from_the_real_clock(tmp_path: Path) -> None:
    """Without a fixed clock, `feeder new` names the file after today (UTC by default)."""
    project = Project(tmp_path / "p")
    before = datetime.now(timezone.utc).date()
    result = CliRunner().invoke(cli, ["new", "Now", "-t", "x", "-C", str(project.root)])
    after = datetime.now(timezone.utc).date()
    assert result.exit_code == 0, result.output
    assert [p.name for p in project.content.iterdir()] in (
        [f"{before.isoformat()}-now.txt"], [f"{after.isoformat()}-now.txt"])

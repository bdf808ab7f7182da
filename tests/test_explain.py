"""Briefs written in the variants, end to end: the feeds' summaries, what is refused, `feeder
check --explain`, the drafts `feeder new` starts and what it refuses to write."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import feeder.cli as cli_module
from feeder.cli import cli
from tests.conftest import NOW, Project
from tests.test_variants import EXPECTED_SUMMARY, LAYOUTS, VARIANTS, body

SUMMARY_TEXT = " ".join(EXPECTED_SUMMARY.replace("- ", "").split())


def run(runner: CliRunner, project: Project, *args: str) -> object:
    return runner.invoke(cli, [*args, "-C", str(project.root)])


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_module, "utc_now", lambda: NOW)


def _variant_site(project: Project) -> dict[str, str]:
    """A brief per variant and layout; returns the title of each."""
    titles = {}
    for number, variant in enumerate(VARIANTS):
        for layout, head in LAYOUTS.items():
            title = f"{variant} {layout}"
            text = head.replace("We Don't Talk Anymore", title) + body(*VARIANTS[variant])
            suffix = ".txt" if layout == "house" else ".md"
            project.brief(f"2016-10-{1 + number % 28:02d}-{variant}-{layout}{suffix}", text,
                          dedent=False)
            titles[title] = variant
    return titles


def test_every_variant_reaches_every_feed_format_with_its_short_version(
        project: Project) -> None:
    titles = _variant_site(project)
    project.settings('title = "T"\nbase_url = "https://news.example.com/"\nmax_entries = 200\n')
    result = project.build()
    assert not result.problems, [str(p) for p in result.problems]
    for feed in ("atom.xml", "rss.xml"):
        entries = project.feed(feed).entries
        assert {entry.title for entry in entries} == set(titles)
        for entry in entries:
            summary = entry.summary
            assert summary.startswith("<p>The US announced Monday"), (feed, entry.title)
            assert "<li>ceasefire over</li>" in summary, (feed, entry.title)
            assert "The Short of It" not in summary
            assert "White House" not in summary
    items = json.loads((project.public / "feed.json").read_text(encoding="utf-8"))["items"]
    assert {item["title"] for item in items} == set(titles)
    for item in items:
        assert item["summary"] == SUMMARY_TEXT, item["title"]
        assert "<h2>The Takeaway</h2>" in item["content_html"]


def test_an_empty_short_version_stops_the_build_and_leaves_public_untouched(
        runner: CliRunner, project: Project) -> None:
    project.brief("2016-10-04-good.txt", "Good\n\na\n\nThe Short of It:\n\nS.\n", dedent=False)
    project.build()
    before = project.snapshot()
    project.brief("2016-10-05-bad.txt", "Bad\n\na\n\nThe Short of It:\n\n## The Takeaway\n\nE.\n",
                  dedent=False)
    result = run(runner, project, "build")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "content/2016-10-05-bad.txt:5: the short version ('The Short of It:') is empty" in \
        result.stderr  # type: ignore[attr-defined]
    assert project.snapshot() == before
    kept = run(runner, project, "build", "--keep-going")
    assert kept.exit_code == 1  # type: ignore[attr-defined]
    assert [e.title for e in project.feed("atom.xml").entries] == ["Good"]


@pytest.mark.usefixtures("clock")
def test_explain_shows_how_a_brief_is_read(runner: CliRunner, project: Project) -> None:
    path = project.brief("2016-10-04-radio-silent.txt",
                         "Radio Silent\n\nrussia, US\n\nOver.\n\n**The Short of It:**\nThe US "
                         "stopped talking.\n\nHere\u2019s what happened:\nX.\n\nThe Longer "
                         "Version:\nY.\n", dedent=False)
    result = run(runner, project, "check", "--explain", str(path), "--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    [item] = json.loads(result.stdout)  # type: ignore[attr-defined]
    brief = item["brief"]
    assert brief["title"] == "Radio Silent"
    assert (brief["date"], brief["date_from"]) == ("2016-10-04T00:00:00+00:00", "file name")
    assert brief["tags"] == [{"name": "russia", "slug": "russia"}, {"name": "US", "slug": "us"}]
    assert brief["id"] == "tag:news.example.com,2016-10-04:radio-silent"
    assert brief["url"] == "https://news.example.com/2016/10/04/radio-silent/"
    assert brief["status"] == "published"
    assert brief["summary"] == "The US stopped talking. Here\u2019s what happened X. The Longer " \
                               "Version Y."
    assert item["sections"] == [
        {"line": 7, "level": 2, "label": "The Short of It", "blocks": 3},
        {"line": 10, "level": 3, "label": "Here\u2019s what happened", "blocks": 1},
        {"line": 13, "level": 3, "label": "The Longer Version", "blocks": 1}]
    assert item["problems"] == [
        "content/2016-10-04-radio-silent.txt:13: warning: 'The Longer Version:' is not a "
        "section label, so it opens no section; did you mean 'The Longer Version of It:'?"]
    text = run(runner, project, "check", "--explain", str(path))
    assert "  line 7        The Short of It (3 blocks of text)\n" in text.stdout  # type: ignore
    assert "  status:   published" in text.stdout  # type: ignore[attr-defined]
    strict = run(runner, project, "check", "--explain", "--strict", str(path))
    assert strict.exit_code == 1  # type: ignore[attr-defined]


def test_explain_needs_paths_and_json_needs_explain(runner: CliRunner, project: Project) -> None:
    assert run(runner, project, "check", "--explain").exit_code == 2  # type: ignore
    assert run(runner, project, "check", "--json").exit_code == 2  # type: ignore[attr-defined]


# --- feeder new ------------------------------------------------------------------------------

@pytest.mark.usefixtures("clock")
def test_new_starts_a_draft_that_check_lists_and_build_does_not_publish(
        runner: CliRunner, project: Project) -> None:
    project.brief("2016-10-04-a.txt", "A\n\nx\n\nThe Short of It:\n\nS.\n", dedent=False)
    assert run(runner, project, "new", "Unfilled", "-t", "x").exit_code == 0  # type: ignore
    path = project.content / "2026-11-26-unfilled.txt"
    assert path.read_text(encoding="utf-8").startswith("---\ndraft: true\n---\nUnfilled\n")
    checked = run(runner, project, "check", "--strict")
    assert checked.exit_code == 0, checked.output  # type: ignore[attr-defined]
    assert "content/2026-11-26-unfilled.txt: draft (draft: true): checked, not published\n" in \
        checked.stderr  # type: ignore[attr-defined]
    assert run(runner, project, "build").exit_code == 0  # type: ignore[attr-defined]
    assert [e.title for e in project.feed("atom.xml").entries] == ["A"]
    # un-drafted but left unfilled, it stops the build
    path.write_text(path.read_text(encoding="utf-8").replace("draft: true", "draft: false"),
                    encoding="utf-8")
    result = run(runner, project, "build")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "content/2026-11-26-unfilled.txt:8: the short version ('The Short of It:') is " \
           "empty" in result.stderr  # type: ignore[attr-defined]


@pytest.mark.usefixtures("clock")
def test_new_with_publish_cannot_be_built_until_filled(runner: CliRunner,
                                                       project: Project) -> None:
    assert run(runner, project, "new", "Now", "-t", "x", "--publish").exit_code == 0  # type: ignore
    path = project.content / "2026-11-26-now.txt"
    assert path.read_text(encoding="utf-8").startswith("Now\n\nx\n\nThe Short of It:\n")
    result = run(runner, project, "build")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "content/2026-11-26-now.txt:5: the short version" in result.stderr  # type: ignore
    assert not project.public.exists()


@pytest.mark.parametrize(("args", "message"), [
    (["Bell\x07 rings", "-t", "x"], "feeder new: the title holds a control character (U+0007); "
                                    "remove it"),
    (["Esc", "-t", "x\x1b[31m"], "feeder new: the tag 'x\\x1b[31m' holds a control character "
                                 "(U+001B); remove it"),
    (["Del", "-t", "ok", "-t", "a\x7f"], "feeder new: the tag 'a\\x7f' holds a control "
                                         "character (U+007F); remove it"),
    (["Bad\udcff byte", "-t", "x"], "feeder new: the title holds a control character (an "
                                    "undecodable byte); remove it"),
    (["\U00020000" * 80, "-t", "x"], "feeder new: the file name would be 267 bytes, more than "
                                     "file systems take (255); give a shorter --slug"),
], ids=["bell-in-title", "escape-in-tag", "delete-in-tag", "undecodable", "long-name"])
@pytest.mark.usefixtures("clock")
def test_new_refuses_control_characters_and_file_names_too_long(
        runner: CliRunner, project: Project, args: list[str], message: str) -> None:
    result = run(runner, project, "new", *args)
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    assert result.stderr == message + "\n"  # type: ignore[attr-defined]
    assert list(project.content.iterdir()) == []


@pytest.mark.usefixtures("clock")
def test_new_with_tabs_and_newlines_in_the_title_writes_one_line(
        runner: CliRunner, project: Project) -> None:
    assert run(runner, project, "new", "Two\tparts\nof it", "-t", "a\tb").exit_code == 0  # type: ignore
    text = (project.content / "2026-11-26-two-parts-of-it.txt").read_text(encoding="utf-8")
    assert text.startswith("---\ndraft: true\n---\nTwo parts of it\n\na b\n\n")

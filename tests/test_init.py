"""`feeder init` starts a site that builds at once; `feeder serve` reloads pages and binds
where it is told; the words of --help and the base_url placeholder."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from feeder.cli import cli
from feeder.config import load_config
from tests.conftest import REPO, Project, house, parse_feed
from tests.serving import feeder_serve, fetch, wait_for


def _init(runner: CliRunner, *args: str) -> object:
    return runner.invoke(cli, ["init", *args], catch_exceptions=False)


def test_init_starts_a_site_that_builds_and_checks_at_once(tmp_path: Path,
                                                         runner: CliRunner) -> None:
    site = tmp_path / "news"
    result = runner.invoke(cli, ["init", str(site), "--title", "Harbour News", "--base-url",
                                 "https://harbour.example.net/news"])
    assert result.exit_code == 0, result.output
    briefs = list((site / "content").glob("*-welcome.txt"))
    assert len(briefs) == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\d-welcome\.txt", briefs[0].name)
    assert ".feeder-cache/" in (site / ".gitignore").read_text(encoding="utf-8")
    config, warnings = load_config(site)
    assert (config.title, config.base_url) == ("Harbour News", "https://harbour.example.net/news/")
    assert warnings == ()
    assert not (site / ".github").exists()

    checked = runner.invoke(cli, ["check", "-C", str(site), "--strict"])
    assert checked.exit_code == 0, checked.output
    built = runner.invoke(cli, ["build", "-C", str(site)])
    assert built.exit_code == 0, built.output
    feed = parse_feed((site / "public" / "atom.xml").read_bytes())
    assert feed.feed.title == "Harbour News"
    (entry,) = feed.entries
    assert entry.title == "Welcome to Harbour News"
    assert "short version" in entry.summary
    assert "longer version" in entry.content[0].value


def test_init_never_overwrites_anything(tmp_path: Path, runner: CliRunner) -> None:
    (tmp_path / ".gitignore").write_text("mine\n", encoding="utf-8")
    first = runner.invoke(cli, ["init", str(tmp_path), "--title", "A"])
    assert first.exit_code == 0, first.output
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8") == "mine\n"
    assert "exists, left as it is" in first.output
    settings = (tmp_path / "feeder.toml").read_bytes()
    again = runner.invoke(cli, ["init", str(tmp_path), "--title", "B"])
    assert again.exit_code == 1
    assert "feeder.toml: already exists" in again.output
    assert (tmp_path / "feeder.toml").read_bytes() == settings


def test_init_with_a_bad_setting_writes_nothing(tmp_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["init", str(tmp_path / "x"), "--base-url", "news.example"])
    assert result.exit_code == 2
    assert "base_url" in result.output
    assert not (tmp_path / "x").exists()


def test_init_without_a_terminal_uses_the_placeholder_which_check_strict_refuses(
        tmp_path: Path, runner: CliRunner) -> None:
    assert runner.invoke(cli, ["init", str(tmp_path)]).exit_code == 0
    config, warnings = load_config(tmp_path)
    assert config.is_placeholder
    assert [w for w in warnings if "base_url" in w.message]
    built = runner.invoke(cli, ["build", "-C", str(tmp_path)])
    assert built.exit_code == 0
    assert "warning" in built.output
    assert "base_url" in built.output
    assert runner.invoke(cli, ["check", "-C", str(tmp_path)]).exit_code == 0
    strict = runner.invoke(cli, ["check", "-C", str(tmp_path), "--strict", "-q"])
    assert strict.exit_code == 1
    assert "base_url" in strict.output


def test_init_asks_for_the_title_and_address_on_a_terminal(
        tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("feeder.scaffold._on_terminal", lambda: True)
    result = runner.invoke(cli, ["init", str(tmp_path)],
                           input="Night Desk\nhttps://night.example.org/\n")
    assert result.exit_code == 0, result.output
    config, _ = load_config(tmp_path)
    assert (config.title, config.base_url) == ("Night Desk", "https://night.example.org/")


def _yaml_block(markdown: str) -> str:
    match = re.search(r"```yaml\n(.*?)```", markdown, re.DOTALL)
    assert match
    return match.group(1)


def test_init_github_actions_writes_the_workflow_of_the_publishing_guide(
        tmp_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["init", str(tmp_path), "--github-actions"])
    assert result.exit_code == 0, result.output
    written = (tmp_path / ".github" / "workflows" / "publish.yml").read_text(encoding="utf-8")
    guide = (REPO / "docs" / "PUBLISHING.md").read_text(encoding="utf-8")
    assert written == _yaml_block(guide)
    assert "pip install feeder-briefs" in written


def test_the_placeholder_base_url_replaced_warns_of_no_changed_ids(project: Project) -> None:
    project.settings('title = "T"\n')
    project.brief("2016-10-04-radio-silent.txt", house("Radio silent", "russia"))
    assert project.build().report.written
    project.settings('title = "T"\nbase_url = "https://news.example.com/"\n')
    result = project.build()
    assert not [p for p in result.problems if "id" in p.message], result.problems
    feed = project.feed("atom.xml")
    assert feed.entries[0].id == "tag:news.example.com,2016-10-04:radio-silent"


def test_a_setting_after_a_table_says_to_move_it_above(tmp_path: Path, runner: CliRunner) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "feeder.toml").write_text(
        'title = "T"\n\n[author]\nname = "Ed"\nmax_entries = 5\n', encoding="utf-8")
    result = runner.invoke(cli, ["check", "-C", str(tmp_path)])
    assert result.exit_code == 2
    assert "max_entries" in result.output
    assert "move it above" in result.output


def test_help_names_json_feed_and_cuts_no_summary(runner: CliRunner) -> None:
    text = runner.invoke(cli, ["--help"], terminal_width=80).output
    assert "JSON Feed" in " ".join(text.split())
    assert "..." not in text.partition("Commands:")[2]
    for name, command in cli.commands.items():
        summary = command.get_short_help_str(limit=1000)
        assert summary.endswith("."), (name, summary)
        assert " ".join(summary.split()) in " ".join(text.split()), name


def test_verbose_and_strict_say_what_they_do_in_each_command() -> None:
    helps = {}
    for name, command in cli.commands.items():
        for param in command.params:
            if param.name in ("verbose", "strict"):
                helps.setdefault(param.name, {})[name] = param.help
    assert len(set(helps["verbose"].values())) == len(helps["verbose"]) >= 4
    assert len(set(helps["strict"].values())) == len(helps["strict"]) >= 3
    assert "warning" in helps["strict"]["check"]
    assert "id" in helps["verbose"]["check"]


def test_serve_reloads_open_pages_after_a_rebuild_and_never_writes_the_script(
        project: Project) -> None:
    project.brief("2016-10-04-a.txt", house("A", "russia"))
    with feeder_serve(project.root) as served:
        served.wait_for_output("built ")
        page = fetch(served.url)
        assert b"/.feeder-live" in page.body
        # a page carries its build's number: never 304 for it, the feeds still get theirs
        assert fetch(served.url, {"If-None-Match": page.headers["etag"]}).status == 200
        atom = fetch(served.url + "atom.xml")
        assert fetch(served.url + "atom.xml",
                     {"If-None-Match": atom.headers["etag"]}).status == 304
        assert b"/.feeder-live" not in (project.public / "index.html").read_bytes()
        assert fetch(served.url + "atom.xml").body == (project.public / "atom.xml").read_bytes()
        before = fetch(served.url + ".feeder-live").body
        after = len(served.stderr)
        time.sleep(0.1)
        project.brief("2016-10-05-b.txt", house("B", "russia"))
        served.wait_for_output("rebuilt ", after=after)
        wait_for(lambda: fetch(served.url + ".feeder-live").body != before, 30,
                 "the build number to change")
        assert "127.0.0.1" in served.url
        assert "warning" not in served.stderr


def test_serve_bind_elsewhere_warns_and_prints_a_url_to_open(project: Project) -> None:
    project.brief("2016-10-04-a.txt", house("A", "russia"))
    with feeder_serve(project.root, "--bind", "0.0.0.0") as served:  # noqa: S104
        served.wait_for_output("built ")
        assert "warning: serving on 0.0.0.0" in served.stderr
        assert fetch(served.url).status == 200



def test_serve_bind_to_a_loopback_name_gives_no_warning(project: Project) -> None:
    project.brief("2016-10-04-a.txt", house("A", "russia"))
    with feeder_serve(project.root, "--bind", "localhost") as served:
        served.wait_for_output("built ")
        assert fetch(served.url).status == 200
        assert "warning" not in served.stderr

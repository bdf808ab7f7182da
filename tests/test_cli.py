"""The command line: exit codes, messages, --keep-going, and public/ untouched on error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from feeder import __version__
from feeder.cli import cli
from tests.conftest import REPO, Project, house


def run(runner: CliRunner, project: Project, *args: str) -> Result:
    return runner.invoke(cli, [*args, "-C", str(project.root)])


def failed(result: Result, code: int) -> None:
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_build_succeeds_and_reports_one_line(runner: CliRunner, project: Project) -> None:
    project.brief("2016-10-04-a.txt", house("A", "x, y"))
    result = run(runner, project, "build")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("public: 20 written, 0 removed, 0 unchanged (1 brief, 3 feeds) in ")
    again = run(runner, project, "build")
    assert " 0 written, 0 removed, 20 unchanged " in again.stderr


def test_quiet_and_verbose(runner: CliRunner, project: Project) -> None:
    project.brief("2016-10-04-a.txt", house("A", "x"))
    assert run(runner, project, "build", "-q").stderr == ""
    project.brief("2016-10-05-b.txt", house("B", "x"))
    verbose = run(runner, project, "build", "-v").stderr
    assert "wrote atom.xml\n" in verbose
    assert "wrote tags/x/rss.xml\n" in verbose


def test_a_bad_brief_lists_every_problem_and_leaves_public_untouched(
        runner: CliRunner, project: Project) -> None:
    project.brief("2016-10-04-good.txt", house("Good", "x"))
    assert run(runner, project, "build").exit_code == 0
    before = project.snapshot()
    project.brief("2016-10-05-good.txt", house("Also good", "x"))
    project.brief("undated.txt", house("Undated", "x"))
    project.brief("2016-10-06-bad.md",
                  "---\ntitle: [oops]\ntags: [x]\n---\nThe Short of It:\n\nS.\n", dedent=False)
    result = run(runner, project, "build")
    failed(result, 1)
    assert result.stderr.splitlines() == [
        "content/2016-10-06-bad.md:2: title must be text, not a list (put it in quotes)",
        "content/undated.txt:1: no date: name the file YYYY-MM-DD-undated.txt or add front "
        "matter with 'date: YYYY-MM-DD'",
        "feeder: 2 errors",
    ]
    assert project.snapshot() == before


def test_keep_going_publishes_the_valid_briefs_and_still_fails(
        runner: CliRunner, project: Project) -> None:
    project.brief("2016-10-04-good.txt", house("Good", "x"))
    project.brief("undated.txt", house("Undated", "x"))
    result = run(runner, project, "build", "--keep-going")
    failed(result, 1)
    assert result.stderr.splitlines()[0] == (
        "content/undated.txt:1: no date: name the file YYYY-MM-DD-undated.txt or add front "
        "matter with 'date: YYYY-MM-DD'")
    assert [e.title for e in project.feed("atom.xml").entries] == ["Good"]


def test_check_lists_errors_and_warnings_and_writes_nothing(
        runner: CliRunner, project: Project) -> None:
    project.brief("2016-10-04-a.txt", "---\ntitel: x\n---\n" + house("A", "x"), dedent=False)
    project.brief("2016-10-05-b.txt", "B\n\nx\n\nJust text.\n", dedent=False)
    result = run(runner, project, "check")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "content/2016-10-04-a.txt:2: warning: unknown front matter key 'titel' is ignored; did "
        "you mean 'title'?",
        "content/2016-10-05-b.txt: warning: no short version ('The Short of It:' section) and "
        "no summary in front matter; using the standfirst as the summary",
        "checked 2 brief files: 0 errors, 2 warnings",
    ]
    assert not project.public.exists()
    failed(run(runner, project, "check", "--strict"), 1)
    project.brief("2016-10-06-c.txt", "C\n")
    failed(run(runner, project, "check"), 1)


def test_check_lists_every_draft_valid_or_not(runner: CliRunner, project: Project) -> None:
    project.brief("2016-10-04-a.txt", "---\ndraft: true\n---\n" + house("A", "x"), dedent=False)
    project.brief("2016-10-05-b.md", "\ufeff---\r\ndraft: true\r\ndate: nope\r\n---\r\nB\r\n",
                  dedent=False)
    project.brief("2016-10-06-c.txt", house("C", "x"))
    result = run(runner, project, "check")
    failed(result, 1)
    assert result.stderr.splitlines()[-3:] == [
        "content/2016-10-04-a.txt: draft (draft: true): checked, not published",
        "content/2016-10-05-b.md: draft (draft: true): checked, not published",
        "checked 3 brief files: 3 errors, 0 warnings, 2 drafts"]
    assert "draft" not in run(runner, project, "check", "-q").stderr


def test_bad_settings_exit_2(runner: CliRunner, project: Project) -> None:
    project.brief("2016-10-04-a.txt", house("A", "x"))
    project.settings('base_url = "news.example.com"\nmax_entires = 3\n')
    result = run(runner, project, "build")
    failed(result, 2)
    assert result.stderr.splitlines() == [
        "feeder.toml:1: base_url: expected an absolute http(s) URL such as "
        "https://news.example.com/, got 'news.example.com'",
        "feeder.toml:2: unknown setting 'max_entires'; did you mean 'max_entries'?",
        "feeder: 2 errors",
    ]
    project.settings("title = \n")
    result = run(runner, project, "build")
    failed(result, 2)
    assert result.stderr.startswith("feeder.toml:1: invalid TOML: ")


def test_bad_option_exits_2(runner: CliRunner, project: Project) -> None:
    result = run(runner, project, "build", "--base-url", "ftp://x")
    failed(result, 2)
    assert result.stderr == ("command line: --base-url: expected an absolute http(s) URL such as "
                             "https://news.example.com/, got 'ftp://x'\n")
    failed(run(runner, project, "build", "--no-such-option"), 2)


def test_options_override_settings(runner: CliRunner, project: Project) -> None:
    project.brief("2016-10-04-a.txt", house("A", "x"))
    result = run(runner, project, "build", "--output", "site", "--base-url",
                 "https://other.example.net/news", "--title", "Other")
    assert result.exit_code == 0, result.output
    feed = project.root / "site" / "atom.xml"
    text = feed.read_text(encoding="utf-8")
    assert "<title>Other</title>" in text
    assert "<id>tag:other.example.net,2016-10-04:a</id>" in text
    assert 'href="https://other.example.net/news/atom.xml"' in text


def test_no_settings_at_all_works_with_a_warning(runner: CliRunner, tmp_path: Path) -> None:
    project = Project(tmp_path / "bare")
    project.brief("2016-10-04-a.txt", house("A", "x"))
    result = run(runner, project, "build")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("feeder.toml: warning: no base_url set: feeds use the "
                                    "placeholder https://example.org/")
    assert "<id>tag:example.org,2016-10-04:a</id>" in (project.public / "atom.xml").read_text()


def test_pyproject_settings(runner: CliRunner, tmp_path: Path) -> None:
    project = Project(tmp_path / "py")
    (project.root / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.feeder]\ntitle = "From pyproject"\n'
        'base_url = "https://py.example.com/"\nlanguage = 7\n')
    project.brief("2016-10-04-a.txt", house("A", "x"))
    result = run(runner, project, "build")
    failed(result, 2)
    assert result.stderr == ("pyproject.toml [tool.feeder]:7: language: expected text, got a "
                             "number\n")


def test_missing_content_folder(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["build", "-C", str(tmp_path)])
    failed(result, 2)
    assert result.stderr.splitlines()[-1] == (
        "content: content folder not found; create it or set content_dir")


def test_nothing_to_publish(runner: CliRunner, project: Project) -> None:
    project.brief("2099-10-04-a.txt", house("A", "x"))
    result = run(runner, project, "build", "-q")
    failed(result, 1)
    assert result.stderr == ("content: no briefs to publish (1 held back as drafts or dated in "
                             "the future)\n")


def test_every_command_has_help(runner: CliRunner) -> None:
    for command in cli.commands:
        result = runner.invoke(cli, [command, "--help"])
        assert result.exit_code == 0
        assert "Usage: " in result.output


def test_version_from_the_installed_script_and_python_m() -> None:
    script = Path(sys.executable).parent / "feeder"
    for argv in ([str(script), "--version"], [sys.executable, "-m", "feeder", "--version"]):
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        assert out == f"feeder, version {__version__}\n"


def test_the_command_ends_with_the_exit_status_and_all_its_output(tmp_path: Path) -> None:
    """`feeder` ends its process without the interpreter's teardown (cli.main): the exit
    status and every line written must come out all the same, through a pipe."""
    command = [sys.executable, "-m", "feeder"]
    missing = subprocess.run([*command, "build", "-q", "-C", str(tmp_path)],
                             capture_output=True, text=True, check=False)
    assert missing.returncode == 2
    assert missing.stderr.endswith("content folder not found; create it or set content_dir\n")
    usage = subprocess.run([*command, "bogus"], capture_output=True, text=True, check=False)
    assert usage.returncode == 2
    assert "No such command 'bogus'" in usage.stderr
    listed = subprocess.run([*command, "tags", "-C", str(REPO)], capture_output=True,
                            text=True, check=True)
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["TAG", "BRIEFS", "SLUG", "FORMAT", "FEED", "URL"]
    assert len(lines) > 10
    assert listed.stdout.endswith("\n")

"""The `feeder` command: a thin layer over the library.

Options become setting overrides; the library does the work; `_reporting` is the one place
where a `FeederError` becomes `path:line: message` lines on stderr and an exit code
(1 content, 2 settings or usage). This module reads the clock (to know which briefs are in
the future) and nothing below it does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from feeder import __version__
from feeder.errors import FeederError, Problem, errors_in

F = TypeVar("F", bound=Callable[..., Any])


def _echo_problems(problems: Iterable[Problem], *, quiet: bool = False) -> None:
    for problem in problems:
        if problem.is_error or not quiet:
            click.echo(str(problem), err=True)


@contextmanager
def _reporting(quiet: bool) -> Iterator[None]:
    """Turn user errors into their messages and exit code; a bug keeps its traceback."""
    try:
        yield
    except FeederError as err:
        _echo_problems(err.problems, quiet=quiet)
        count = len(errors_in(err.problems))
        if count > 1:
            click.echo(f"feeder: {count} errors", err=True)
        _exit(err.exit_code)


def _exit(code: int) -> NoReturn:
    raise SystemExit(code)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _project_options(func: F) -> F:
    """Options shared by the commands that read a project."""
    decorators = [
        click.option("--project", "-C", "project", type=click.Path(file_okay=False, path_type=Path),
                     default=Path(), show_default=True,
                     help="The project folder (where feeder.toml and content/ are)."),
        click.option("--content", "content_dir", metavar="DIR",
                     help="Folder of briefs (setting content_dir; default content)."),
        click.option("--output", "output_dir", metavar="DIR",
                     help="Folder to write the feeds into (setting output_dir; default public)."),
        click.option("--base-url", "base_url", metavar="URL",
                     help="Absolute URL the output folder is published at (setting base_url)."),
        click.option("--title", "title", help="The publication's name (setting title)."),
        click.option("--timezone", "timezone",
                     help="IANA timezone for dates without one (setting timezone; default UTC)."),
        click.option("--max-entries", "max_entries", type=int, metavar="N",
                     help="Entries per feed (setting max_entries; default 50)."),
        click.option("--drafts", is_flag=True, help="Also publish briefs marked draft: true."),
        click.option("--future", is_flag=True, help="Also publish briefs dated in the future."),
        click.option("-q", "--quiet", is_flag=True, help="Print errors only."),
        click.option("-v", "--verbose", is_flag=True, help="List every file written or removed."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


_SETTING_OPTIONS = ("content_dir", "output_dir", "base_url", "title", "timezone", "max_entries")


def _load(project: Path, options: dict[str, Any], quiet: bool) -> Any:
    from feeder.config import load_config

    overrides = {key: options[key] for key in _SETTING_OPTIONS if options.get(key) is not None}
    config, warnings = load_config(project, overrides)
    _echo_problems(warnings, quiet=quiet)
    return config


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="feeder")
def cli() -> None:
    """Publish a folder of dated Markdown news briefs as Atom and RSS feeds.

    Briefs in content/ become one combined feed and one feed per tag in public/.
    """


@cli.command()
@_project_options
@click.option("--keep-going", is_flag=True,
              help="Publish the valid briefs even if some are invalid (still exits 1).")
def build(project: Path, drafts: bool, future: bool, quiet: bool, verbose: bool,
          keep_going: bool, **settings: Any) -> None:
    """Build the feeds from the briefs into the output folder.

    Nothing is written if any brief is invalid (unless --keep-going): every problem is
    listed as path:line: message and the command exits with status 1.
    """
    started = time.perf_counter()
    with _reporting(quiet):
        from feeder.pipeline import Options
        from feeder.pipeline import build as run_build

        config = _load(project, settings, quiet)
        result = run_build(config, now=_now(),
                           options=Options(drafts=drafts, future=future, keep_going=keep_going))
        _echo_problems(result.problems, quiet=quiet)
        report = result.report
        if verbose:
            for rel in report.written:
                click.echo(f"wrote {rel}", err=True)
            for rel in report.removed:
                click.echo(f"removed {rel}", err=True)
        if not quiet:
            elapsed = time.perf_counter() - started
            click.echo(f"{config.display_path(config.output_dir)}: {len(report.written)} written, "
                       f"{len(report.removed)} removed, {len(report.unchanged)} unchanged "
                       f"({result.briefs} briefs, {len(result.site.feeds)} feeds) "
                       f"in {elapsed:.2f} s", err=True)
        if errors_in(result.problems):
            _exit(1)


@cli.command()
@_project_options
@click.option("--strict", is_flag=True, help="Count warnings as errors (exit 1).")
def check(project: Path, drafts: bool, future: bool, quiet: bool, verbose: bool, strict: bool,
          **settings: Any) -> None:
    """Check every brief and list each problem as path:line: message.

    Exits with status 1 when any brief has an error (or a warning, with --strict).
    Writes nothing.
    """
    with _reporting(quiet):
        from feeder.pipeline import Options, collect

        config = _load(project, settings, quiet)
        collected = collect(config, now=_now(), options=Options(drafts=drafts, future=future))
        _echo_problems(collected.problems, quiet=quiet)
        errors = len(errors_in(collected.problems))
        warnings = len(collected.problems) - errors
        if not quiet or errors:
            click.echo(f"checked {collected.files} brief files: "
                       f"{errors} errors, {warnings} warnings", err=True)
        if verbose and collected.site:
            for entry in collected.site.entries:
                click.echo(f"{entry.path}: {entry.id}", err=True)
        if errors or (strict and warnings):
            _exit(1)


def main() -> None:
    """Entry point of the `feeder` script."""
    cli()

"""The `feeder` command: a thin layer over the library.

Options become setting overrides; the library does the work; `_reporting` is the one place
where a `FeederError` becomes `path:line: message` lines on stderr and an exit code
(1 content, 2 settings or usage). This module reads the clock (to know which briefs are in
the future) and nothing below it does.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TypeVar

import click

from feeder import __version__
from feeder.errors import FeederError, Problem, Stopped, errors_in

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


class _ProgressBar:
    """A progress bar on stderr for the long stages of a build (feeder.cache.Progress)."""

    def __init__(self) -> None:
        self._bar: Any = None

    @classmethod
    def on_terminal(cls, quiet: bool) -> _ProgressBar | None:
        """A progress bar when stderr is a terminal (and not --quiet); None otherwise."""
        return None if quiet or not sys.stderr.isatty() else cls()

    def start(self, label: str, total: int) -> None:
        self.finish()
        self._bar = click.progressbar(length=total, label=label, width=30, file=sys.stderr)
        self._bar.__enter__()

    def advance(self, count: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


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


def _ping_options(func: F) -> F:
    """Options of the commands that ping WebSub hubs."""
    func = click.option("--hub-timeout", type=click.FloatRange(min=0, min_open=True),
                        default=10.0, show_default=True, metavar="SECONDS",
                        help="Seconds to wait for a hub, per attempt.")(func)
    return click.option("--strict", is_flag=True,
                        help="Exit 1 when a hub does not accept a ping.")(func)


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
@click.option("--ping", is_flag=True,
              help="Then tell the WebSub hubs (setting hubs) which feeds changed.")
@click.option("--clean", is_flag=True,
              help="Ignore the build cache (setting cache_dir): read, parse and render every "
                   "brief again, and rewrite the cache.")
@_ping_options
def build(project: Path, drafts: bool, future: bool, quiet: bool, verbose: bool,
          keep_going: bool, ping: bool, clean: bool, strict: bool, hub_timeout: float,
          **settings: Any) -> None:
    """Build the feeds from the briefs into the output folder.

    Nothing is written if any brief is invalid (unless --keep-going): every problem is
    listed as path:line: message and the command exits with status 1.
    """
    started = time.perf_counter()
    with _reporting(quiet):
        from feeder.pipeline import Options
        from feeder.pipeline import build as run_build

        config = _load(project, settings, quiet)
        if ping:
            _require_hubs(config)
        result = run_build(config, now=_now(),
                           options=Options(drafts=drafts, future=future, keep_going=keep_going,
                                           clean=clean),
                           on_wait=None if quiet else lambda message: click.echo(message, err=True),
                           progress=_ProgressBar.on_terminal(quiet))
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
                       f"({result.briefs} briefs, {result.feeds} feeds) "
                       f"in {elapsed:.2f} s", err=True)
        pinged = True
        if ping:
            from feeder.websub import changed_feed_urls

            urls = changed_feed_urls(result.site, report.written) if result.site else ()
            pinged = _ping(config, urls, timeout=hub_timeout, strict=strict, quiet=quiet,
                           verbose=verbose)
        if errors_in(result.problems) or not pinged:
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
        from feeder.cache import BuildCache
        from feeder.pipeline import Options, collect
        from feeder.sources import read_templates

        config = _load(project, settings, quiet)
        read_templates(config.root)  # the rules of templates/ hold for check as for build
        collected = collect(config, now=_now(), options=Options(drafts=drafts, future=future),
                            cache=BuildCache(config, write=False))
        # With --strict a warning fails the check, so -q does not hide it.
        _echo_problems(collected.problems, quiet=quiet and not strict)
        errors = len(errors_in(collected.problems))
        warnings = len(collected.problems) - errors
        if not quiet or errors or (strict and warnings):
            click.echo(f"checked {collected.files} brief files: "
                       f"{errors} errors, {warnings} warnings", err=True)
        if verbose and collected.site:
            for entry in collected.site.entries:
                click.echo(f"{entry.path}: {entry.id}", err=True)
        if errors or (strict and warnings):
            _exit(1)


def _require_hubs(config: Any) -> None:
    from feeder.errors import ConfigError

    if not config.hubs:
        raise ConfigError([Problem(config.source or "settings", None,
                                   "no hubs to ping: set hubs, e.g. "
                                   'hubs = ["https://pubsubhubbub.appspot.com/"]')])


def _ping(config: Any, urls: tuple[str, ...], *, timeout: float, strict: bool, quiet: bool,
          verbose: bool) -> bool:
    """Tell the hubs about `urls` and print what they answered; False if one failed with
    --strict (a failure is otherwise a warning)."""
    from feeder.websub import ping_hubs

    if not urls:
        if not quiet:
            click.echo("no feed changed: no hub pinged", err=True)
        return True
    report = ping_hubs(config.hubs, urls, timeout=timeout)
    for line in (report.details() if verbose else ()) + (() if quiet else report.summary()):
        click.echo(line, err=True)
    _echo_problems(report.problems("error" if strict else "warning"), quiet=quiet)
    return not (strict and report.failed)


@cli.command()
@_project_options
@click.option("--since", type=click.Path(path_type=Path), metavar="MANIFEST",
              help="A copy of the output folder's .feeder-manifest.json saved when the site "
                   "was last deployed: ping only the feeds that changed since.")
@_ping_options
def ping(project: Path, drafts: bool, future: bool, quiet: bool, verbose: bool,
         since: Path | None, strict: bool, hub_timeout: float, **settings: Any) -> None:
    """Tell the WebSub hubs (setting hubs) which feeds changed; run it after deploying.

    Compares the output folder's manifest (from the last build) with MANIFEST and pings the
    hubs with every feed that differs; every feed when MANIFEST does not exist yet or
    without --since. Give it the options you gave feeder build.
    """
    with _reporting(quiet):
        from feeder.errors import ContentError
        from feeder.output import read_manifest
        from feeder.pipeline import Options, collect
        from feeder.websub import changed_feed_urls, changed_files, read_file_hashes

        config = _load(project, settings, quiet)
        _require_hubs(config)
        built, problems = read_manifest(config.output_dir)
        _echo_problems(problems, quiet=quiet)
        output = config.display_path(config.output_dir)
        collected = collect(config, now=_now(), options=Options(drafts=drafts, future=future))
        if not built.files or collected.site is None:
            raise ContentError([Problem(output, None, "nothing built here: run feeder build")])
        before = read_file_hashes(since, since.as_posix()) if since else None
        if since and before is None and not quiet:
            click.echo(f"{since.as_posix()}: not found, so every feed counts as changed",
                       err=True)
        urls = changed_feed_urls(collected.site, changed_files(before or {}, built.files))
        if not _ping(config, urls, timeout=hub_timeout, strict=strict, quiet=quiet,
                     verbose=verbose):
            _exit(1)


@cli.command()
@_project_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table.")
def tags(project: Path, drafts: bool, future: bool, quiet: bool, verbose: bool, as_json: bool,
         **settings: Any) -> None:
    """List every tag with its number of briefs, its slug and its feed URLs.

    Exits with status 1 when a brief has an error (the table shows the valid briefs).
    """
    del verbose
    with _reporting(quiet):
        from feeder.pipeline import Options, collect
        from feeder.tags import tag_infos, tags_json, tags_table

        config = _load(project, settings, quiet)
        collected = collect(config, now=_now(), options=Options(drafts=drafts, future=future))
        _echo_problems(collected.problems, quiet=quiet)
        infos = tag_infos(collected.site, config)
        click.echo(tags_json(infos) if as_json else tags_table(infos))
        if errors_in(collected.problems):
            _exit(1)


@cli.command()
@click.argument("title")
@click.option("--tag", "-t", "tag_names", multiple=True, metavar="TAG",
              help="A tag (repeat it, or separate tags with commas). At least one.")
@click.option("--slug", help="The slug, for the file name and URL (default: from the title).")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="The brief's date (default: today, in the timezone setting).")
@click.option("--draft", is_flag=True, help="Start it as a draft (front matter draft: true).")
@click.option("--project", "-C", "project", type=click.Path(file_okay=False, path_type=Path),
              default=Path(), show_default=True,
              help="The project folder (where feeder.toml and content/ are).")
@click.option("--content", "content_dir", metavar="DIR",
              help="Folder of briefs (setting content_dir; default content).")
@click.option("--timezone", "timezone",
              help="IANA timezone of today's date (setting timezone; default UTC).")
def new(title: str, tag_names: tuple[str, ...], slug: str | None, day: datetime | None,
        draft: bool, project: Path, **settings: Any) -> None:
    """Start a brief: content/YYYY-MM-DD-<slug>.txt in the house layout, dated today.

    The file has the title, the tags and every section label, ready to fill; its path is
    printed. An existing file is never overwritten.
    """
    with _reporting(quiet=False):
        from feeder.scaffold import new_brief, write_brief

        config = _load(project, settings, quiet=True)
        today = day.date() if day else _now().astimezone(config.tzinfo).date()
        brief = new_brief(config, title, tag_names, today, slug=slug, draft=draft)
        write_brief(brief)
        try:
            shown = brief.path.relative_to(Path.cwd())
        except ValueError:
            shown = brief.path
        click.echo(shown.as_posix())


@cli.command("serve")
@_project_options
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")
def serve_command(project: Path, drafts: bool, future: bool, quiet: bool, verbose: bool,
                  port: int, **settings: Any) -> None:
    """Build, serve the output folder on 127.0.0.1, and rebuild when briefs change.

    Watches the content folder, feeder.toml/pyproject.toml and templates/; a failed rebuild
    prints its problems and the last good build stays served. --verbose logs each request.
    Stop with Ctrl-C.
    """
    with _reporting(quiet):
        from feeder.pipeline import Options
        from feeder.serve import pipeline_build, serve

        def echo(line: str) -> None:
            click.echo(line, err=True)

        config = _load(project, settings, quiet)
        serve(config, port=port, load=lambda: _load(project, settings, quiet=True),
              build=pipeline_build(_now, Options(drafts=drafts, future=future), echo),
              echo=echo, announce=click.echo, log=echo if verbose else None)


GC_THRESHOLDS = (500_000, 20, 100)
"""Python's cyclic garbage collector, run far less often than by default (700, 10, 10): a
build makes millions of objects, almost none in cycles, and each collection goes through
the young ones again. With the default, a rebuild after one edit at 10,000 briefs spent
90 ms in 347 collections; with 50,000 new objects between collections, 40 to 55 ms in 3
(each went through 50,000 live objects); with 500,000, none (a cold build, a few). Cycles
are still collected: the count is of objects made and not freed since the last collection,
and almost everything a build frees it frees at once, by reference counting."""


def main() -> NoReturn:
    """Entry point of the `feeder` script.

    Ends the process without tearing the interpreter down: a large build leaves millions of
    objects, and freeing them one by one took 0.1 s of a cold build of 10,000 briefs. By
    then every file feeder wrote is closed (and the output flushed to disk), its worker
    processes are gone and its lock is released by the exit itself; the output streams are
    flushed here. A bug's traceback still goes the usual way.
    """
    import gc

    gc.set_threshold(*GC_THRESHOLDS)
    _stop_on_signals()
    try:
        cli()
        status = 0
    except SystemExit as stop:  # how click ends every command
        status = _exit_status(stop.code)
    except Stopped as stop:  # Ctrl-C or SIGTERM (see _stop_on_signals)
        with suppress(OSError, ValueError):
            click.echo(f"feeder: stopped by {signal.Signals(stop.signum).name}", err=True)
        status = 128 + stop.signum
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a closed pipe (`feeder tags | head`) or stream
            stream.flush()
    os._exit(status)


def _stop_on_signals() -> None:
    """SIGINT and SIGTERM raise Stopped in this process, once (a second one while the build
    cleans up is ignored). A forked child (a worker) leaves the stop to this process: it
    ignores SIGINT (Ctrl-C reaches the whole process group) and SIGTERM ends it at once,
    as a pool of workers expects when it terminates them."""
    def stop(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
        for each in (signal.SIGINT, signal.SIGTERM):
            signal.signal(each, signal.SIG_IGN)
        raise Stopped(signum)

    def in_child() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    os.register_at_fork(after_in_child=in_child)


def _exit_status(code: object) -> int:
    """The exit status `sys.exit(code)` gives."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1

"""The `feeder` command: a thin layer over the library.

Options become setting overrides; the library does the work; `clihelp.reporting` turns a
`FeederError` into `path:line: message` lines on stderr and an exit code (1 content, 2
settings or usage). The CLI reads the clock (`utc_now`) and nothing below it does.
"""

from __future__ import annotations

import gc
import signal
import sys
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, suppress
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import click

from feeder import __version__
from feeder.clihelp import echo_problems, reporting, utc_now
from feeder.config import Config, load_config
from feeder.errors import ConfigError, Problem, Stopped, errors_in
from feeder.scaffold import init
from feeder.sources import read_named
from feeder.text import plural

F = TypeVar("F", bound=Callable[..., Any])


def _echo(line: str) -> None:
    click.echo(line, err=True)


def _progress_bar(items: Iterable[Any], label: str, total: int
                  ) -> AbstractContextManager[Iterable[Any]]:
    """A progress bar on stderr for the long stages of a build (feeder.workers.Progress)."""
    return click.progressbar(items, length=total, label=label, width=30, file=sys.stderr)


class _CommandList(click.Group):
    """The command group, listing each command with its whole first sentence (click cuts
    them at the width of the terminal)."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.commands[name].get_short_help_str(limit=1000))
                for name in self.list_commands(ctx) if not self.commands[name].hidden]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


_PROJECT = click.option("--project", "-C", "project", show_default=True, default=Path(),
                        type=click.Path(file_okay=False, path_type=Path),
                        help="The project folder (where feeder.toml and content/ are).")
_CONTENT = click.option("--content", "content_dir", metavar="DIR",
                        help="Folder of briefs (setting content_dir; default content).")


def _options(*options: Callable[[F], F]) -> Callable[[F], F]:
    """One decorator applying `options` (listed in the order of `--help`)."""
    def apply(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return apply


def _project_options(verbose: str) -> Callable[[F], F]:
    """Options shared by the commands that read a project; `verbose` is what -v does."""
    return _options(
        _PROJECT,
        _CONTENT,
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
        click.option("-v", "--verbose", is_flag=True, help=verbose),
    )


def _ping_options(strict: str) -> Callable[[F], F]:
    """Options of the commands that ping WebSub hubs; `strict` is what --strict does."""
    return _options(
        click.option("--strict", is_flag=True, help=strict),
        click.option("--hub-timeout", type=click.FloatRange(min=0, min_open=True),
                     default=10.0, show_default=True, metavar="SECONDS",
                     help="Seconds to wait for a hub, per attempt."))


_SETTING_OPTIONS = ("content_dir", "output_dir", "base_url", "title", "timezone", "max_entries")


def _load(project: Path, settings: dict[str, Any], quiet: bool) -> Config:
    """The project's settings, with the setting options given (in a fixed order: the order of
    the messages)."""
    overrides = {key: settings[key] for key in _SETTING_OPTIONS if settings.get(key) is not None}
    config, warnings = load_config(project, overrides)
    echo_problems(warnings, quiet=quiet)
    return config


@click.group(cls=_CommandList, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="feeder")
def cli() -> None:
    """Publish dated Markdown news briefs as feeds (Atom, RSS, JSON Feed) and web pages."""


@cli.command()
@_project_options("List every file written or removed.")
@click.option("--keep-going", is_flag=True,
              help="Publish the valid briefs even if some are invalid (still exits 1).")
@click.option("--ping", is_flag=True,
              help="Then tell the WebSub hubs (setting hubs) which feeds changed.")
@click.option("--clean", is_flag=True,
              help="Ignore the build cache (setting cache_dir): read, parse and render every "
                   "brief and make every file again.")
@click.option("--overwrite", is_flag=True,
              help="Replace files in the output folder that feeder did not write.")
@_ping_options("With --ping: exit 1 when a hub does not accept a ping (brief warnings never "
               "fail a build: see check --strict).")
def build(project: Path, drafts: bool, future: bool, quiet: bool, verbose: bool,
          keep_going: bool, ping: bool, clean: bool, overwrite: bool, strict: bool,
          hub_timeout: float, **settings: Any) -> None:
    """Build the feeds, pages and sitemap from the briefs into the output folder.

    Nothing is written if any brief is invalid (unless --keep-going): every problem is
    listed as path:line: message and the command exits with status 1.
    """
    started = time.perf_counter()
    with reporting(quiet):
        from feeder.pipeline import Options
        from feeder.pipeline import build as run_build

        config = _load(project, settings, quiet)
        if ping:
            _require_hubs(config)
        result = run_build(config, now=utc_now(),
                           options=Options(drafts=drafts, future=future, keep_going=keep_going,
                                           clean=clean, overwrite=overwrite),
                           on_wait=None if quiet else _echo,
                           progress=None if quiet or not sys.stderr.isatty() else _progress_bar)
        echo_problems(result.problems, quiet=quiet)
        report = result.report
        if verbose:
            for line in [f"wrote {rel}" for rel in report.written] + \
                    [f"removed {rel}" for rel in report.removed]:
                _echo(line)
        if not quiet:
            _echo(result.summary(config.display_path(config.output_dir),
                                 time.perf_counter() - started))
        pinged = True
        if ping:
            from feeder.websub import changed_feed_urls

            urls = changed_feed_urls(result.site, report.written)
            pinged = _ping(config, urls, timeout=hub_timeout, strict=strict, quiet=quiet,
                           verbose=verbose)
        if errors_in(result.problems) or not pinged:
            raise SystemExit(1)


def _explain(config: Config, paths: tuple[Path, ...], *, as_json: bool, strict: bool) -> None:
    from feeder.explain import as_json as to_json
    from feeder.explain import as_text, explain, failed

    explained = [explain(read_named(path, config.content_dir,
                                    config.display_path(path.absolute())), config, utc_now())
                 for path in paths]
    click.echo(to_json(explained) if as_json else as_text(explained))
    if failed(explained, strict=strict):
        raise SystemExit(1)


@cli.command()
@_project_options("List every entry's id, by brief file.")
@click.option("--strict", is_flag=True,
              help="Count warnings as errors (exit 1), a base_url left at the placeholder "
                   "included.")
@click.option("--explain", is_flag=True, help="Show how feeder reads each brief PATH instead.")
@click.option("--json", "as_json", is_flag=True, help="With --explain: print JSON for scripts.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[PATH]...")
def check(project: Path, drafts: bool, future: bool, quiet: bool, verbose: bool, strict: bool,
          explain: bool, as_json: bool, paths: tuple[Path, ...], **settings: Any) -> None:
    """Check every brief and list each problem as path:line: message, then the drafts.

    Exits with status 1 when any brief has an error (or a warning, with --strict).
    Writes nothing. With --explain PATH..., shows how feeder reads those briefs instead.
    """
    with reporting(quiet):
        if explain != bool(paths) or (as_json and not explain):
            raise ConfigError("to see how feeder reads briefs: feeder check --explain PATH...")
        config = _load(project, settings, quiet and not strict)
        if explain:
            _explain(config, paths, as_json=as_json, strict=strict)
            return
        from feeder.pipeline import Options
        from feeder.pipeline import check as run_check

        collected = run_check(config, now=utc_now(), options=Options(drafts=drafts, future=future))
        # With --strict a warning fails the check, so -q does not hide it.
        echo_problems(collected.problems, quiet=quiet and not strict)
        errors = len(errors_in(collected.problems))
        warnings = len(collected.problems) - errors + config.is_placeholder  # (_load warned)
        drafts_found = () if quiet else collected.drafts
        for path in drafts_found:
            _echo(f"{path}: draft (draft: true): checked, not published")
        if not quiet or errors or (strict and warnings):
            listed = f", {plural(len(drafts_found), 'draft')}" if drafts_found else ""
            _echo(f"checked {plural(collected.files, 'brief file')}: "
                  f"{plural(errors, 'error')}, {plural(warnings, 'warning')}{listed}")
        if verbose and collected.site:
            for entry in collected.site.entries:
                _echo(f"{entry.path}: {entry.id}")
        content = config.display_path(config.content_dir)
        for rel in collected.unused if verbose else ():
            _echo(f"{content}/{rel}: published, but no brief links it")
        if errors or (strict and warnings):
            raise SystemExit(1)


def _require_hubs(config: Config) -> None:
    if not config.hubs:
        raise ConfigError([Problem(config.source or "settings", None,
                                   "no hubs to ping: set hubs, e.g. "
                                   'hubs = ["https://pubsubhubbub.appspot.com/"]')])


def _ping(config: Config, urls: tuple[str, ...], *, timeout: float, strict: bool, quiet: bool,
          verbose: bool) -> bool:
    """Tell the hubs about `urls` and print what they answered; False if one failed with
    --strict (a failure is otherwise a warning)."""
    from feeder.websub import ping_hubs

    if not urls:
        if not quiet:
            _echo("no feed changed: no hub pinged")
        return True
    report = ping_hubs(config.hubs, urls, timeout=timeout)
    for line in (report.details() if verbose else ()) + (() if quiet else report.summary()):
        _echo(line)
    echo_problems(report.problems("error" if strict else "warning"), quiet=quiet)
    return not (strict and report.failed)


@cli.command()
@_project_options("Show each hub's answer for each feed.")
@click.option("--since", type=click.Path(path_type=Path), metavar="RECORD",
              help="A copy of the build record (.feeder-cache/feeder.sqlite) saved when the "
                   "site was last deployed: ping only the feeds that changed since.")
@_ping_options("Exit 1 when a hub does not accept a ping.")
def ping(project: Path, drafts: bool, future: bool, quiet: bool, verbose: bool,
         since: Path | None, strict: bool, hub_timeout: float, **settings: Any) -> None:
    """Tell the WebSub hubs (setting hubs) which feeds changed; run it after deploying.

    Compares the record of the last build with RECORD and pings the hubs with every feed
    that differs; every feed when RECORD does not exist yet or without --since. Give it the
    options you gave feeder build.
    """
    with reporting(quiet):
        from feeder.pipeline import Options, changed_feeds

        config = _load(project, settings, quiet)
        _require_hubs(config)
        changed = changed_feeds(config, now=utc_now(),
                                options=Options(drafts=drafts, future=future), since=since)
        if changed.since_problem is not None:
            echo_problems([changed.since_problem], quiet=quiet)
        elif since and not changed.since_found and not quiet:
            _echo(f"{since.as_posix()}: not found, so every feed counts as changed")
        if not _ping(config, changed.urls, timeout=hub_timeout, strict=strict, quiet=quiet,
                     verbose=verbose):
            raise SystemExit(1)


@cli.command()
@_project_options("No effect (the table and JSON hold everything).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table.")
def tags(project: Path, drafts: bool, future: bool, quiet: bool, verbose: bool, as_json: bool,
         **settings: Any) -> None:
    """List every tag with its number of briefs, its slug and its feed URLs.

    Exits with status 1 when a brief has an error (the table shows the valid briefs).
    """
    del verbose
    with reporting(quiet):
        from feeder.pipeline import Options, collect
        from feeder.tags import tag_infos, tags_json, tags_table

        config = _load(project, settings, quiet)
        collected = collect(config, now=utc_now(), options=Options(drafts=drafts, future=future),
                            html=False)
        echo_problems(collected.problems, quiet=quiet)
        infos = tag_infos(collected.site, config)
        click.echo(tags_json(infos) if as_json else tags_table(infos))
        if errors_in(collected.problems):
            raise SystemExit(1)


@cli.command()
@click.argument("title")
@click.option("--tag", "-t", "tag_names", multiple=True, metavar="TAG",
              help="A tag (repeat it, or separate tags with commas). At least one.")
@click.option("--slug", help="The slug, for the file name and URL (default: from the title).")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="The brief's date (default: today, in the timezone setting).")
@click.option("--draft/--publish", "draft", default=True,
              help="Start it as a draft (draft: true; the default) or as a brief to publish.")
@_PROJECT
@_CONTENT
@click.option("--timezone", "timezone",
              help="IANA timezone of today's date (setting timezone; default UTC).")
def new(title: str, tag_names: tuple[str, ...], slug: str | None, day: datetime | None,
        draft: bool, project: Path, **settings: Any) -> None:
    """Start a brief: content/YYYY-MM-DD-<slug>.txt in the house layout, dated today.

    The file has the title, the tags and every section label, ready to fill; its path is
    printed. It starts as a draft (not published) unless --publish. An existing file is
    never overwritten.
    """
    with reporting(quiet=False):
        from feeder.scaffold import new_brief, write_brief

        config = _load(project, settings, quiet=True)
        today = day.date() if day else utc_now().astimezone(config.tzinfo).date()
        brief = new_brief(config, title, tag_names, today, slug=slug, draft=draft)
        write_brief(brief)
        try:
            shown = brief.path.relative_to(Path.cwd())
        except ValueError:
            shown = brief.path
        click.echo(shown.as_posix())


@cli.command("serve")
@_project_options("Log each request.")
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="The port (0: any free port).")
@click.option("--bind", "host", metavar="ADDRESS", default="127.0.0.1", show_default=True,
              help="The address to listen on; one not of this machine only (0.0.0.0: every "
                   "address) lets others read the site, with a warning.")
def serve_command(project: Path, drafts: bool, future: bool, quiet: bool, verbose: bool,
                  port: int, host: str, **settings: Any) -> None:
    """Build, serve the output folder, and rebuild when briefs change; pages reload.

    Prints the URL to open. Watches content/, the settings, templates/, static/ and the
    favicon; open pages reload after each rebuild (a script the server adds, never in the
    files). A failed rebuild prints its problems and the last good build stays served."""
    with reporting(quiet):
        from feeder.pipeline import Options
        from feeder.serve import serve

        config = _load(project, settings, quiet)
        serve(config, port=port, load=lambda: _load(project, settings, quiet=True),
              clock=utc_now, options=Options(drafts=drafts, future=future),
              echo=_echo, announce=click.echo, log=_echo if verbose else None, host=host)


cli.add_command(init)


def main() -> None:
    """Entry point of the `feeder` script.

    A build makes millions of objects, almost none in cycles: the cyclic garbage collector
    runs after 200,000 new ones rather than 700. The library leaves its caller's settings alone.
    """
    gc.set_threshold(200_000, 20, 100)
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        cli()
    except Stopped as stop:  # the build has unwound, removing what it staged
        with suppress(OSError, ValueError):  # a closed stream
            click.echo(f"feeder: stopped by {signal.Signals(stop.signum).name}", err=True)
        raise SystemExit(128 + stop.signum) from None


def _stop(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
    """SIGINT and SIGTERM raise Stopped, once: a second one while the build cleans up is
    ignored. (Worker processes leave the stop to this one: see workers.py.)"""
    for each in (signal.SIGINT, signal.SIGTERM):
        signal.signal(each, signal.SIG_IGN)
    raise Stopped(signum)

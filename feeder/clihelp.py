"""What every command shares: the one place where a FeederError becomes `path:line: message`
lines and an exit code (`reporting`), and the clock (`utc_now`: nothing below the CLI reads
it)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import click

from feeder.errors import FeederError, Problem, errors_in


def echo_problems(problems: Iterable[Problem], *, quiet: bool = False) -> None:
    for problem in problems:
        if problem.is_error or not quiet:
            click.echo(str(problem), err=True)


@contextmanager
def reporting(quiet: bool) -> Iterator[None]:
    """Turn user errors into their messages and exit code; a bug keeps its traceback."""
    try:
        yield
    except FeederError as err:
        echo_problems(err.problems, quiet=quiet)
        count = len(errors_in(err.problems))
        if count > 1:
            click.echo(f"feeder: {count} errors", err=True)
        raise SystemExit(err.exit_code) from None


def utc_now() -> datetime:
    return datetime.now(timezone.utc)

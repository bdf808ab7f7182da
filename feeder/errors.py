"""Problems found in a user's files (`path:line: message`), and the exceptions that carry
them: every problem found, and the exit code the CLI exits with (nothing else decides it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]

# What would break a message's line or the terminal: control characters, line and paragraph
# separators, and the lone surrogates that stand for the bytes of a file name not in UTF-8.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a name that is not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return named.get(match.group()) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def one_line(text: str) -> str:
    """`text` with every control character, line separator and undecodable byte escaped
    (`\\n`, `\\x1b`, `\\xff`), so that it prints on one line whatever a file name holds."""
    return _UNPRINTABLE.sub(_escape_char, text)


@dataclass(frozen=True, slots=True)
class Problem:
    """One message about one place in a user's files."""

    path: str
    """POSIX path as the user would type it (relative to the project folder when inside it)."""
    line: int | None
    """1-based line number, or None when the problem concerns the whole file."""
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        path = one_line(self.path)
        where = path if self.line is None else f"{path}:{self.line}"
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {prefix}{one_line(self.message)}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def errors_in(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    """The problems that are errors (not warnings)."""
    return tuple(p for p in problems if p.is_error)


class FeederError(Exception):
    """An error a user can fix; the CLI prints it and exits with `exit_code`."""

    exit_code = 1

    def __init__(self, problems: Iterable[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = (Problem("feeder", None, problems),)
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type[FeederError], tuple[tuple[Problem, ...]]]:
        # Keeps every problem when the error comes back from a worker process.
        return (type(self), (self.problems,))


class ContentError(FeederError):
    """One or more briefs are invalid."""


class ConfigError(FeederError):
    """A setting or a command-line option is invalid (exit code 2, like a usage error)."""

    exit_code = 2


class OutputError(FeederError):
    """The output folder cannot be written as planned."""


class Stopped(BaseException):
    """SIGINT or SIGTERM reached the `feeder` command (see cli.main): the build unwinds,
    removing what it staged. A BaseException, so that no `except Exception` swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

"""The publisher's page templates: reading `templates/`, and where their errors are.

`templates/` obeys the rules of `content/`: hidden files are skipped; a symbolic link that
loops or leads out of the folder, a FIFO, a device or a name that is not printable UTF-8 is
an error naming it. Templates are code, trusted like the project's own (README); what this
module makes sure of is that any error in one, of any kind (a syntax error, an undefined
value, a missing include, an endless recursion, an exception raised while rendering), is one
`templates/<name>:<line>: message` and exit 2, never a traceback.
"""

from __future__ import annotations

import os
import stat
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path

from feeder.config import TEMPLATES_FOLDER, Config
from feeder.errors import ConfigError, Problem
from feeder.sources import name_problem, refuse_entry


def read_templates(config: Config) -> dict[str, str]:
    """The publisher's page templates: every file in `templates/` of the project folder,
    by its path in the folder.

    Raises ConfigError listing every file that cannot be used (see the module's rules) or
    read as UTF-8 text.
    """
    folder = config.root / TEMPLATES_FOLDER
    if not folder.is_dir():
        return {}
    root = Path(os.path.realpath(folder))
    templates: dict[str, str] = {}
    problems: list[Problem] = []

    def walk(path: str, rel: str, seen: frozenset[str]) -> None:
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError as exc:
            problems.append(Problem(f"{TEMPLATES_FOLDER}/{rel}".rstrip("/"), None,
                                    f"cannot list folder: {exc.strerror or exc}"))
            return
        for entry in entries:
            name, shown = entry.name, f"{TEMPLATES_FOLDER}/{rel}{entry.name}"
            if name.startswith("."):
                continue
            refused = refuse_entry(entry, root, "templates") or name_problem(name)
            if refused is None:
                refused = _read(entry, rel + name, templates, walk, seen)
            if refused is not None:
                problems.append(Problem(shown, None, refused))

    walk(str(folder), "", frozenset({str(root)}))
    if problems:
        raise ConfigError(problems)
    return templates


def _read(entry: os.DirEntry[str], name: str, templates: dict[str, str],
          walk: Callable[[str, str, frozenset[str]], None], seen: frozenset[str]) -> str | None:
    """Read the template (or the folder of templates) `entry`; why not, or None."""
    try:
        mode = entry.stat().st_mode
        if stat.S_ISDIR(mode):
            real = os.path.realpath(entry.path)
            if real not in seen:
                walk(entry.path, name + "/", seen | {real})
            return None
        if not stat.S_ISREG(mode):
            return "not a regular file (a FIFO, socket or device); a template must be a file"
        with open(entry.path, encoding="utf-8-sig") as handle:  # noqa: PTH123
            templates[name] = handle.read()
    except UnicodeDecodeError as exc:
        return f"cannot read template: not valid UTF-8 ({exc.reason} at byte {exc.start})"
    except OSError as exc:
        return f"cannot read template: {exc.strerror or exc}"
    return None


def template_problem(exc: BaseException, overrides: Mapping[str, str]) -> Problem | None:
    """Where in the publisher's templates `exc` (raised while loading or rendering a page)
    happened, with what it means; None when no template of the publisher's is involved
    (the package's own templates failing is a bug)."""
    import jinja2

    message = f"template error: {_describe(exc)}"
    prefix = f"{TEMPLATES_FOLDER}/"
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.name in overrides:
        return Problem(prefix + str(exc.name), exc.lineno, message)
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.startswith(prefix) and frame.filename[len(prefix):] in overrides:
            return Problem(frame.filename, frame.lineno, message)
    if overrides and isinstance(exc, jinja2.TemplateError | RecursionError):
        return Problem(TEMPLATES_FOLDER, None, message)
    return None


def _describe(exc: BaseException) -> str:
    import jinja2

    if isinstance(exc, jinja2.TemplatesNotFound):
        return f"no template named {', '.join(map(repr, exc.templates))}"
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"no template named {exc.name!r}"
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return exc.message or "syntax error"
    if isinstance(exc, RecursionError):
        return ("endless recursion (a template that includes or extends itself, or a macro "
                "that calls itself)")
    if isinstance(exc, jinja2.TemplateError):
        return str(exc.message or exc)
    return f"{type(exc).__name__}: {exc}"

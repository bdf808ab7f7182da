"""Where an error in the publisher's page templates is, and what it means.

Templates are code, trusted like the project's own (README); what this module makes sure of
is that any error in one, of any kind (a syntax error, an undefined value, a missing include,
an endless recursion, an exception raised while rendering), is one
`templates/<name>:<line>: message` and exit 2, never a traceback. (Reading `templates/` is
sources.read_templates.)
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from feeder.config import TEMPLATES_FOLDER
from feeder.errors import ConfigError, Problem

if TYPE_CHECKING:
    import jinja2


def render(env: jinja2.Environment, name: str, values: Mapping[str, Any],
           overrides: Mapping[str, str]) -> str:
    """The template `name` rendered; ConfigError, naming the file and line, when a template
    of the publisher's (`overrides`) fails."""
    try:
        return env.get_template(name).render(values)
    except Exception as exc:  # a publisher's template can fail in any way
        problem = template_problem(exc, overrides)
        if problem is None:
            raise  # the package's own templates are broken: a bug
        raise ConfigError([problem]) from None


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

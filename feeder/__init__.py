"""feeder: publish a folder of dated Markdown news briefs as feeds; the library the `feeder`
command is a thin layer over::

    config, warnings = feeder.load_config("path/to/project")
    result = feeder.build(config, now=datetime.now(timezone.utc))

Names are imported on first use, so `import feeder` does not pay for the Markdown and feed
libraries.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
HOME = "https://github.com/feeder-briefs/feeder"
"""feeder's home: the `uri` of every feed's `<generator>`, and the address WebSub pings give."""

_EXPORTS = {name: f"feeder.{module}" for module, names in {
    "brief": ("Brief", "parse_brief"),
    "config": ("Author", "Config", "load_config", "parse_config"),
    "errors": ("ConfigError", "ContentError", "FeederError", "OutputError", "Problem"),
    "pipeline": ("BuildResult", "Collected", "Options", "build", "check", "collect"),
    "plan": ("plan_outputs",),
    "text": ("Source",),
}.items() for name in names}
__all__ = [  # noqa: RUF022 - in the order of _EXPORTS
    "__version__",
    "Brief", "parse_brief",
    "Author", "Config", "load_config", "parse_config",
    "ConfigError", "ContentError", "FeederError", "OutputError", "Problem",
    "BuildResult", "Collected", "Options", "build", "check", "collect", "plan_outputs",
    "Source",
]

if TYPE_CHECKING:
    from feeder.brief import Brief, parse_brief
    from feeder.config import Author, Config, load_config, parse_config
    from feeder.errors import ConfigError, ContentError, FeederError, OutputError, Problem
    from feeder.pipeline import BuildResult, Collected, Options, build, check, collect
    from feeder.plan import plan_outputs
    from feeder.text import Source


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'feeder' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

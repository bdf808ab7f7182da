"""Reading the files the site publishes as they are: the favicon and `static/`."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from feeder.config import Config
from feeder.errors import ConfigError, Problem

STATIC_FOLDER = "static"


@dataclass(frozen=True, slots=True)
class StaticFiles:
    favicon: bytes | None = None
    """The file the setting `favicon` names (None: the built-in icon)."""
    static: Mapping[str, bytes] = field(default_factory=dict)
    """Every file of `static/`, by its path in it (POSIX)."""

    def digest(self) -> str:
        """What the files are, for the build cache's key."""
        digest = hashlib.sha256(self.favicon or b"")
        for rel, data in sorted(self.static.items()):
            digest.update(f"\0{rel}\0".encode("utf-8", "surrogatepass"))
            digest.update(hashlib.sha256(data).digest())
        return digest.hexdigest()


def read_static(config: Config) -> StaticFiles:
    """The favicon file and every file of `static/` (hidden ones skipped). Raises
    ConfigError when one cannot be read."""
    problems: list[Problem] = []
    favicon = None
    if config.favicon is not None:
        path = config.root / config.favicon
        try:
            favicon = path.read_bytes()
        except OSError as exc:
            problems.append(Problem(config.source or "settings", None,
                                    f"favicon: cannot read {config.display_path(path)}: "
                                    f"{exc.strerror or exc}"))
    static: dict[str, bytes] = {}
    folder = config.root / STATIC_FOLDER
    for path in sorted(folder.rglob("*")):  # (none when there is no such folder)
        rel = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in rel.split("/")) or not path.is_file():
            continue
        try:
            static[rel] = path.read_bytes()
        except OSError as exc:
            problems.append(Problem(config.display_path(path), None,
                                    f"cannot read: {exc.strerror or exc}"))
    if problems:
        raise ConfigError(problems)
    return StaticFiles(favicon, static)

"""Reading the files the site publishes as they are (the favicon, `static/`), and keeping the
publisher's own files in the output folder: the disk side of feeder/extras.py."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from feeder.config import Config
from feeder.errors import ConfigError, OutputError, Problem

STATIC_FOLDER = "static"
"""The project's folder of files published as they are."""


@dataclass(frozen=True, slots=True)
class Assets:
    """The files assets.read_assets read: published as they are."""

    favicon: bytes | None = None
    """The file the setting `favicon` names (None: the built-in icon)."""
    static: Mapping[str, bytes] = field(default_factory=dict)
    """Every file of `static/`, by its path in it (POSIX)."""

    def digest(self) -> str:
        """What the files are, for the build cache's key (a changed file is a new build)."""
        digest = hashlib.sha256(self.favicon or b"")
        for rel, data in sorted(self.static.items()):
            digest.update(f"\0{rel}\0".encode("utf-8", "surrogatepass"))
            digest.update(hashlib.sha256(data).digest())
        return digest.hexdigest()


def read_assets(config: Config) -> Assets:
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
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
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
    return Assets(favicon, static)


def foreign_files(output_dir: Path, planned: Mapping[str, Callable[[], bytes]],
                  written: Mapping[str, object], display: str) -> None:
    """Raise OutputError when a file of `planned` (path -> how to make it) is in the output
    folder, was not written by feeder (not in the manifest's `written`), and differs from
    what feeder would write: it is the publisher's own."""
    problems = []
    for rel, make in planned.items():
        path = output_dir / rel
        if rel in written or not path.is_file():
            continue
        try:
            same = path.read_bytes() == make()
        except OSError:
            same = False
        if not same:
            problems.append(Problem(f"{display}/{rel}", None, (
                f"not written by feeder, which now publishes a {rel} of its own: to publish "
                f"yours instead, move it to {STATIC_FOLDER}/{rel} in the project folder "
                "(copied as it is); to publish feeder's, delete it")))
    if problems:
        raise OutputError(problems)

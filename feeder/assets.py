"""Reading the files the site publishes as they are (the favicon, `static/`), and keeping the
publisher's own files in the output folder: the disk side of feeder/extras.py."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from feeder.config import Config
from feeder.errors import ConfigError, OutputError, Problem
from feeder.extras import STATIC_FOLDER, Assets, Made


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


def foreign_files(output_dir: Path, made: Mapping[str, Made], written: Mapping[str, object],
                  display: str) -> None:
    """Raise OutputError when a file of `made` is in the output folder, was not written by
    feeder (not in the manifest's `written`), and differs: it is the publisher's own."""
    problems = []
    for rel, file in made.items():
        path = output_dir / rel
        if rel in written or not path.is_file():
            continue
        try:
            same = path.read_bytes() == file.data
        except OSError:
            same = False
        if not same:
            problems.append(Problem(f"{display}/{rel}", None, (
                f"not written by feeder, which now publishes a {rel} of its own: to publish "
                f"yours instead, move it to {STATIC_FOLDER}/{rel} in the project folder "
                "(copied as it is); to publish feeder's, delete it")))
    if problems:
        raise OutputError(problems)

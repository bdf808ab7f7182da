"""Shared fixtures: a project factory, a fixed clock, a CLI runner, feed parsing and schemas."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import textwrap
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner
from lxml import etree

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
# feeder's own JSON Schema of JSON Feed 1.1, written from the specification
JSONFEED_SCHEMA = REPO / "tests" / "data" / "jsonfeed-1.1.schema.json"
REAL_BRIEF = REPO / "content" / "2016-10-04-radio-silent.txt"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
ATOM = "{http://www.w3.org/2005/Atom}"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="Rewrite tests/golden/ from the current output.")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def recorded(database: Path) -> tuple[dict[str, str], dict[str, dict[str, str | None]]]:
    """The files (path -> SHA-256) and entries (id -> record) feeder recorded in `database`."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        files = dict(db.execute("SELECT path, sha FROM files"))
        entries = {row[0]: {"path": row[1], "title": row[2], "url": row[3]}
                   for row in db.execute("SELECT id, path, title, url FROM published")}
    return files, entries


class Project:
    """A feeder project in a temporary folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.content = root / "content"
        self.public = root / "public"
        self.content.mkdir(parents=True)

    def brief(self, name: str, text: str, *, dedent: bool = True) -> Path:
        path = self.content / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n") if dedent else text, encoding="utf-8")
        return path

    def settings(self, text: str) -> Path:
        path = self.root / "feeder.toml"
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def snapshot(self) -> dict[str, tuple[bytes, int]]:
        """Every file of public/ with its bytes and modification time."""
        if not self.public.exists():
            return {}
        return {p.relative_to(self.public).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
                for p in sorted(self.public.rglob("*")) if p.is_file()}

    def config(self, **overrides: Any) -> Any:
        from feeder.config import load_config

        return load_config(self.root, overrides or None)[0]

    def build(self, **options: Any) -> Any:
        from feeder.pipeline import Options, build

        return build(self.config(), now=NOW, options=Options(**options))

    @property
    def database(self) -> Path:
        """The build cache, where feeder keeps its record of what it wrote."""
        return self.root / ".feeder-cache" / "feeder.sqlite"

    def recorded_files(self) -> dict[str, str]:
        """The record of the files feeder wrote: path -> SHA-256."""
        return recorded(self.database)[0]

    def recorded_entries(self) -> dict[str, dict[str, str | None]]:
        """The record of the entries published: id -> path, title, url."""
        return recorded(self.database)[1]

    def feed(self, rel: str) -> Any:
        return parse_feed((self.public / rel).read_bytes())


def house(title: str, tags: str, *, short: str = "The short version.", dek: str | None = None,
          longer: str = "The longer version.", takeaway: str = "The takeaway.") -> str:
    """A brief in the house layout."""
    parts = [title, tags]
    if dek:
        parts.append(dek)
    parts += ["The Short of It:", short, "The Longer Version of It:", longer,
              "The Takeaway:", takeaway]
    return "\n\n".join(parts) + "\n"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    proj = Project(tmp_path / "site")
    proj.settings('title = "Test Briefs"\nbase_url = "https://news.example.com/"\n')
    return proj


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def parse_feed(data: bytes) -> Any:
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


SCHEMATRON = {
    "a feed needs an author unless every entry has one":
        "not(a:author) and count(a:entry) != count(a:entry[a:author])",
    "every entry needs an alternate link or content":
        "a:entry[not(a:content) and not(a:link[not(@rel) or @rel='alternate'])]",
}


def check_atom(data: bytes) -> None:
    """RFC 4287's schematron rules (jing ignores them)."""
    root = etree.fromstring(data)
    for rule, xpath in SCHEMATRON.items():
        assert not root.xpath(xpath, namespaces={"a": ATOM[1:-1]}), rule


def shared(rel: str) -> Path:
    """A file of ../shared/, which lies beside this checkout only in the project's own CI.

    A test that needs it is skipped in a plain clone; `.ci/run` sets FEEDER_REQUIRE_SHARED,
    which turns that skip into a failure, so CI always runs it.
    """
    path = SHARED / rel
    if not path.exists():
        if os.environ.get("FEEDER_REQUIRE_SHARED"):
            pytest.fail(f"{path} is missing, and FEEDER_REQUIRE_SHARED asks for it")
        pytest.skip(f"needs ../shared/{rel}, which lies beside the checkout only in the "
                    "project's CI (.ci/run requires it)")
    return path


def jsonfeed_validator(schema: Path = JSONFEED_SCHEMA) -> Any:
    """A JSON Schema validator that checks the "uri" and "date-time" formats too."""
    import jsonschema

    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    # Without these, jsonschema skips "format" silently and a test could not fail on a URL.
    assert {"uri", "date-time"} <= set(checker.checkers), "pip install -e '.[test]'"
    return jsonschema.Draft7Validator(json.loads(schema.read_text(encoding="utf-8")),
                                      format_checker=checker)


def jing(paths: list[Path]) -> None:
    """Validate Atom files against the RFC 4287 RELAX NG schema (jing from Debian).

    Call it last in a test: without ../shared/ (a plain clone) it skips the rest.
    """
    atom_rnc = shared("schemas/atom-rfc4287.rnc")
    if shutil.which("jing") is None:
        if os.environ.get("CI"):
            pytest.fail("jing is not installed: .ci/run installs it")
        pytest.skip("jing is not installed (apt-get install jing)")
    for path in paths:  # one by one: jing stops at the first file that is not well formed
        etree.parse(str(path))
    result = subprocess.run(["jing", "-c", str(atom_rnc), *map(str, paths)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


BriefFactory = Callable[..., Path]

"""Golden files: the exact bytes feeder writes for a small site, and the committed public/.

`python -m pytest tests/test_golden.py --update-golden` rewrites tests/golden/ (and public/)
from the current output; review the diff before committing it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from feeder.config import load_config
from feeder.pipeline import build
from tests.conftest import NOW, REPO, check_atom, jing, parse_feed

DATA = REPO / "tests" / "data" / "site"
GOLDEN = REPO / "tests" / "golden"


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _build(source: Path, root: Path) -> dict[str, bytes]:
    shutil.copytree(source / "content", root / "content")
    shutil.copy(source / "feeder.toml", root / "feeder.toml")
    config, _ = load_config(root)
    build(config, now=NOW)
    return _tree(root / "public")


def _compare(actual: dict[str, bytes], golden: Path, update: bool) -> None:
    if update:
        shutil.rmtree(golden, ignore_errors=True)
        for rel, data in actual.items():
            (golden / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden / rel).write_bytes(data)
        return
    expected = _tree(golden)
    assert sorted(actual) == sorted(expected)
    for rel, data in actual.items():
        if data != expected[rel]:  # compared as text so that pytest shows a readable diff
            assert data.decode("utf-8", "replace") == expected[rel].decode("utf-8", "replace"), rel
            raise AssertionError(f"{rel} differs")  # (a picture)


def test_golden_site(tmp_path: Path, update_golden: bool) -> None:
    actual = _build(DATA, tmp_path)
    _compare(actual, GOLDEN, update_golden)
    # every golden feed is also a valid feed: goldens must not freeze a broken output
    atoms = []
    for rel, data in actual.items():
        if rel.endswith(".xml"):
            parse_feed(data)
        if rel.endswith("atom.xml"):
            check_atom(data)
            atoms.append(tmp_path / "public" / rel)
    jing(atoms)


def test_committed_public_is_a_fresh_build_of_content(tmp_path: Path, update_golden: bool) -> None:
    """public/ in the repository is exactly what `feeder build` makes of content/."""
    if not (REPO / "public").exists() and not update_golden:
        pytest.fail("public/ is missing: run `feeder build`")
    actual = _build(REPO, tmp_path)
    _compare(actual, REPO / "public", update_golden)

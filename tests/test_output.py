"""Writing into the output folder: atomic, only what changed, nothing outside, nothing foreign."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from pathlib import Path

import pytest

from feeder.errors import OutputError
from feeder.output import STAGING, TEMP_SUFFIX, Staging, WriteReport

PLAN = {"atom.xml": b"<feed/>", "tags/x/atom.xml": b"<feed>x</feed>"}


def write(plan: Mapping[str, bytes], public: Path, *, recorded: Collection[str] = (),
          stale: Collection[str] = (), overwrite: bool = False) -> WriteReport:
    with Staging(public, "public", recorded, overwrite) as staging:
        for rel, data in plan.items():
            staging.stage(rel, data)
        staging.flush()
        return staging.commit(stale)


def tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def public(tmp_path: Path) -> Path:
    return tmp_path / "public"


def test_first_write_creates_every_file(public: Path) -> None:
    report = write(PLAN, public)
    assert report == WriteReport(("atom.xml", "tags/x/atom.xml"), (), ())
    assert {rel: data for rel, (data, _) in tree(public).items()} == PLAN
    assert oct((public / "atom.xml").stat().st_mode & 0o777) == "0o644"


def test_unchanged_files_keep_their_modification_time(public: Path) -> None:
    write(PLAN, public)
    before = tree(public)
    report = write({**PLAN, "atom.xml": b"<feed>new</feed>"}, public, recorded=PLAN)
    assert report.written == ("atom.xml",)
    assert report.unchanged == ("tags/x/atom.xml",)
    assert tree(public)["tags/x/atom.xml"] == before["tags/x/atom.xml"]


def test_stale_files_and_their_empty_folders_are_removed(public: Path) -> None:
    write(PLAN, public)
    report = write({"atom.xml": PLAN["atom.xml"]}, public, recorded=PLAN,
                   stale=["tags/x/atom.xml", "gone/never.xml"])
    assert report.removed == ("tags/x/atom.xml",)
    assert not (public / "tags").exists()


def test_a_file_feeder_did_not_write_is_an_error_and_nothing_is_written(public: Path) -> None:
    public.mkdir()
    (public / "CNAME").write_text("x")
    (public / "atom.xml").write_text("someone else's")
    before = tree(public)
    with pytest.raises(OutputError) as caught:
        write(PLAN, public)
    assert [str(p) for p in caught.value.problems] == [
        "public/atom.xml: not written by feeder, and a build would replace it; move it away, "
        "or build with --overwrite"]
    assert tree(public) == before
    write(PLAN, public, overwrite=True)
    assert (public / "atom.xml").read_bytes() == PLAN["atom.xml"]
    assert (public / "CNAME").read_text() == "x"


@pytest.mark.parametrize("rel", ["../escape.xml", "/etc/x.xml", "a/../../b.xml", "a//b.xml"])
def test_paths_outside_the_folder_are_refused_before_anything_is_written(
        public: Path, rel: str) -> None:
    with pytest.raises(OutputError, match="refusing to write outside"):
        write({rel: b"x", **PLAN}, public)
    assert tree(public) == {}


def test_a_symlinked_folder_leading_outside_is_refused(public: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    public.mkdir()
    (public / "tags").symlink_to(outside)
    with pytest.raises(OutputError, match="refusing to write outside"):
        write(PLAN, public)
    assert list(outside.iterdir()) == []


def test_an_error_leaves_the_folder_as_it_was(public: Path) -> None:
    write(PLAN, public)
    before = tree(public)
    (public / "tags").chmod(0o555)
    try:
        if os.access(public / "tags" / "x", os.W_OK) and os.geteuid() == 0:
            pytest.skip("root writes anywhere")
        with pytest.raises(OutputError, match="cannot write"):
            write({"atom.xml": b"new", "tags/y/atom.xml": b"y"}, public, recorded=PLAN)
    finally:
        (public / "tags").chmod(0o755)
    assert tree(public) == before
    assert not (public / STAGING).exists()


def test_leftovers_of_a_killed_build_are_swept(public: Path) -> None:
    write(PLAN, public)
    (public / STAGING).write_text("killed")
    leftover = public / "tags" / "x" / f".atom.xml.abc{TEMP_SUFFIX}"
    leftover.write_text("half")
    write(PLAN, public, recorded=PLAN)
    assert not leftover.exists()
    assert not (public / STAGING).exists()

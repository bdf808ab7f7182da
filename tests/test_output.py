"""Writing the plan: only what changed, atomically, never a file feeder did not write."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import pytest

from feeder import output
from feeder.errors import OutputError
from feeder.output import MANIFEST, TEMP_SUFFIX, Manifest, WriteReport, read_manifest, write_plan

OLD_TIME = 1_000_000_000_000_000_000  # 2001, in nanoseconds: any rewrite would move it
FOREIGN = {"CNAME": b"news.example.com\n", "robots.txt": b"User-agent: *\n",
           "images/logo.png": b"\x89PNG\r\n\x1a\nfake", "tags/x/notes.txt": b"mine\n",
           ".htaccess": b"Options -Indexes\n"}


def write(public: Path, plan: Mapping[str, bytes],
          entries: Mapping[str, Mapping[str, str]] | None = None) -> WriteReport:
    manifest, problems = read_manifest(public)
    assert problems == ()
    return write_plan(plan, public, manifest=manifest, entries=entries or {})


def tree(public: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `public` (hidden ones included) with bytes and mtime."""
    return {p.relative_to(public).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(public.rglob("*")) if p.is_file()}


def age(public: Path) -> None:
    for path in public.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(OLD_TIME, OLD_TIME))


def put_foreign(public: Path) -> None:
    for rel, data in FOREIGN.items():
        (public / rel).parent.mkdir(parents=True, exist_ok=True)
        (public / rel).write_bytes(data)


PLAN = {"atom.xml": b"<feed>1</feed>", "rss.xml": b"<rss>1</rss>",
        "tags/x/atom.xml": b"<feed>x</feed>", "tags/y/atom.xml": b"<feed>y</feed>"}


@pytest.fixture
def public(tmp_path: Path) -> Path:
    return tmp_path / "public"


def test_first_write_creates_every_file_and_the_manifest(public: Path) -> None:
    report = write(public, PLAN, {"tag:x,2016:a": {"path": "content/a.txt", "title": "A",
                                                   "url": "https://x.example/a/"}})
    assert report == WriteReport(tuple(sorted(PLAN)), (), ())
    assert {rel: data for rel, (data, _) in tree(public).items() if rel != MANIFEST} == PLAN
    manifest = json.loads((public / MANIFEST).read_bytes())
    assert manifest["files"] == {rel: output.sha256(data) for rel, data in PLAN.items()}
    assert manifest["entries"] == {"tag:x,2016:a": {"path": "content/a.txt", "title": "A",
                                                    "url": "https://x.example/a/"}}
    assert oct((public / "atom.xml").stat().st_mode & 0o777) == "0o644"


def test_unchanged_files_keep_their_modification_time(public: Path) -> None:
    write(public, PLAN)
    age(public)
    before = tree(public)
    assert write(public, PLAN) == WriteReport((), (), tuple(sorted(PLAN)))
    assert tree(public) == before
    changed = {**PLAN, "rss.xml": b"<rss>2</rss>"}
    assert write(public, changed).written == ("rss.xml",)
    after = tree(public)
    assert after["rss.xml"][0] == b"<rss>2</rss>"
    assert after["rss.xml"][1] != OLD_TIME
    for rel in ("atom.xml", "tags/x/atom.xml", "tags/y/atom.xml"):
        assert after[rel] == before[rel]


def test_stale_files_and_their_empty_folders_are_removed(public: Path) -> None:
    write(public, {**PLAN, "tags/z/a/deep.xml": b"deep"})
    report = write(public, {"atom.xml": PLAN["atom.xml"], "tags/x/atom.xml": b"<feed>x2</feed>"})
    assert report.removed == ("rss.xml", "tags/y/atom.xml", "tags/z/a/deep.xml")
    assert not (public / "tags" / "y").exists()
    assert not (public / "tags" / "z").exists()
    assert sorted(tree(public)) == [MANIFEST, "atom.xml", "tags/x/atom.xml"]
    assert set(json.loads((public / MANIFEST).read_bytes())["files"]) == {
        "atom.xml", "tags/x/atom.xml"}


def test_files_feeder_did_not_write_are_never_touched(public: Path) -> None:
    public.mkdir()
    put_foreign(public)
    write(public, PLAN)
    age(public)
    foreign_before = {rel: v for rel, v in tree(public).items() if rel in FOREIGN}
    # Tag x loses its feed, but tags/x/ keeps the file the user put there.
    write(public, {"atom.xml": b"<feed>2</feed>"})
    after = tree(public)
    assert {rel: v for rel, v in after.items() if rel in FOREIGN} == foreign_before
    assert sorted(set(after) - set(FOREIGN)) == [MANIFEST, "atom.xml"]
    assert (public / "tags" / "x").is_dir()


@pytest.mark.parametrize("rel", ["../escape.xml", "/srv/escape.xml", "a/../../escape.xml",
                                 "", ".", "tags/..", "tags/x/../../../escape.xml"])
def test_paths_outside_the_folder_are_refused_before_anything_is_written(
        public: Path, rel: str) -> None:
    with pytest.raises(OutputError, match="refusing to write outside the output folder"):
        write(public, {"atom.xml": b"x", rel: b"x"})
    assert tree(public) == {}
    assert not (public.parent / "escape.xml").exists()


def test_a_symlinked_folder_leading_outside_is_refused(public: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    public.mkdir()
    (public / "tags").symlink_to(outside)
    with pytest.raises(OutputError, match="refusing to write outside"):
        write(public, {"tags/x/atom.xml": b"x"})
    assert list(outside.iterdir()) == []


def test_a_tampered_manifest_cannot_delete_outside_the_folder(public: Path,
                                                              tmp_path: Path) -> None:
    victims = [tmp_path / "victim.txt", tmp_path / "outside" / "victim.txt"]
    for victim in victims:
        victim.parent.mkdir(exist_ok=True)
        victim.write_bytes(b"precious")
    write(public, PLAN)
    (public / "link").symlink_to(tmp_path / "outside")
    files = {"../victim.txt": "0", str(victims[0]): "0", "link/victim.txt": "0",
             "tags/../../victim.txt": "0", **dict.fromkeys(PLAN, "0")}
    (public / MANIFEST).write_bytes(Manifest(files, {}).to_bytes())
    report = write(public, {"atom.xml": b"new"})
    assert report.removed == ("rss.xml", "tags/x/atom.xml", "tags/y/atom.xml")
    for victim in victims:
        assert victim.read_bytes() == b"precious"
    assert (public / "link").is_symlink()


def test_an_unreadable_manifest_is_a_warning_and_removes_nothing(public: Path) -> None:
    write(public, PLAN)
    (public / MANIFEST).write_bytes(b"{not json")
    manifest, problems = read_manifest(public)
    assert [p.severity for p in problems] == ["warning"]
    assert "ignoring unreadable manifest" in problems[0].message
    write_plan({"atom.xml": b"new"}, public, manifest=manifest, entries={})
    assert (public / "rss.xml").exists()  # no longer known to be feeder's: left alone


def test_leftovers_of_a_killed_build_are_swept(public: Path) -> None:
    write(public, PLAN)
    public.joinpath("tags", "gone").mkdir()
    leftovers = [public / f".atom.xml.k1{TEMP_SUFFIX}",
                 public / f"tags/x/.atom.xml.k2{TEMP_SUFFIX}",
                 public / f"tags/gone/.atom.xml.k3{TEMP_SUFFIX}"]
    for path in leftovers:
        path.write_bytes(b"half")
    kept = [public / f"mine{TEMP_SUFFIX}", public / ".hidden-notes"]
    for path in kept:
        path.write_bytes(b"user")
    age(public)
    before = tree(public)
    assert write(public, PLAN).written == ()
    for path in leftovers:
        assert not path.exists()
    assert not (public / "tags" / "gone").exists()  # only a killed build had made it
    after = tree(public)
    assert after == {rel: v for rel, v in before.items()
                     if public / rel not in leftovers}


def test_the_manifest_is_deterministic(tmp_path: Path) -> None:
    entries = {f"tag:x,2016:{n}": {"title": n, "url": f"https://x.example/{n}/",
                                   "path": f"content/{n}.txt"} for n in "cab"}
    one, two = tmp_path / "one", tmp_path / "two"
    write(one, PLAN, entries)
    write(two, dict(reversed(PLAN.items())), dict(reversed(entries.items())))
    data = (one / MANIFEST).read_bytes()
    assert data == (two / MANIFEST).read_bytes()
    assert data.endswith(b"}\n")
    parsed = json.loads(data)
    assert list(parsed["files"]) == sorted(PLAN)
    assert list(parsed["entries"]) == sorted(entries)
    assert list(parsed["entries"]["tag:x,2016:a"]) == ["path", "title", "url"]


def test_an_error_leaves_the_folder_as_it_was(public: Path) -> None:
    write(public, PLAN)
    put_foreign(public)
    age(public)
    (public / "blocker").write_bytes(b"a file where a folder is needed")
    before = tree(public)
    plan = dict.fromkeys(("atom.xml", "aaa/new.xml", "blocker/x.xml", "tags/new/a/atom.xml",
                          "tags/x/atom.xml"), b"new")
    with pytest.raises(OutputError) as raised:
        write(public, plan)
    [problem] = raised.value.problems
    assert problem.path == f"{public.as_posix()}/blocker/x.xml"
    assert problem.message.startswith("cannot write: ")
    assert problem.message.endswith(f"; {public.as_posix()} was left as it was")
    assert tree(public) == before
    assert not (public / "aaa").exists()
    assert not (public / "tags" / "new").exists()


class Killed(BaseException):
    """Stands for a SIGKILL: nothing in write_plan may catch it."""


@pytest.mark.parametrize("stop", range(9))
def test_a_build_stopped_after_any_rename_leaves_old_or_new_and_nothing_unclaimed(
        public: Path, monkeypatch: pytest.MonkeyPatch, stop: int) -> None:
    """Stopped after `stop` renames (a new folder appears, another goes): every file is old
    or new, and the next build, whatever its plan, removes every file of both."""
    old = {**PLAN, "tags/old/atom.xml": b"<feed>old</feed>"}
    new = {rel: data + b" v2" for rel, data in PLAN.items() if rel != "rss.xml"}
    new |= {"tags/new/atom.xml": b"<feed>new</feed>", "tags/new/rss.xml": b"<rss>new</rss>"}
    write(public, old)
    put_foreign(public)
    calls = 0
    real = os.replace

    def replace(src: str | Path, dst: str | Path) -> None:
        nonlocal calls
        if calls == stop:
            raise Killed
        calls += 1
        real(src, dst)

    monkeypatch.setattr(output.os, "replace", replace)
    try:
        write(public, new)
        finished = True
    except Killed:
        finished = False
    monkeypatch.setattr(output.os, "replace", real)
    assert finished == (stop >= 7)  # interim manifest, 5 files, final manifest
    for rel, (data, _) in tree(public).items():
        if rel in FOREIGN or rel == MANIFEST:
            continue
        if rel.endswith(TEMP_SUFFIX):
            assert not finished
            continue
        assert data in (old.get(rel), new.get(rel)), rel
    claimed = set(json.loads((public / MANIFEST).read_bytes())["files"])
    visible = {rel for rel in tree(public) if rel not in FOREIGN and rel != MANIFEST
               and not rel.endswith(TEMP_SUFFIX)}
    assert visible <= claimed
    third = {"atom.xml": b"third"}
    write(public, third)
    assert sorted(set(tree(public)) - set(FOREIGN)) == [MANIFEST, "atom.xml"]
    assert sorted(p.relative_to(public).as_posix() for p in public.rglob("*") if p.is_dir()) == [
        "images", "tags", "tags/x"]

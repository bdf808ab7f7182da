"""Real `feeder build` processes killed with SIGKILL at many moments, and builds run at once.

A project of 1,200 small briefs (about 1,500 output files: feeds, archive pages and pages) is
built (version A), then every brief is edited and one tag renamed (version B), so that
nearly every output file changes, a tag folder appears and another goes. Builds from A to B
are then killed, 16 times: at moments spread evenly over the whole build (timed on an
unkilled one), just after the first rename, and early in staging. After each kill every file
in public/ must be complete A or complete B (byte for byte), nothing may be missing, nothing
may appear under a name a reader would fetch unless it is complete, and the manifest must
claim every feeder file it holds. A final build then completes and sweeps the leftovers.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from feeder.lock import LOCK_FILE
from feeder.output import TEMP_SUFFIX
from tests.conftest import Project, parse_feed, recorded

BRIEFS = 1200
TAGS = 30
UNIFORM_KILLS = 12
RENAME_KILLS = 3
FOREIGN = {"CNAME": b"news.example.com\n", "humans.txt": b"Editors: the desk\n",
           "images/logo.png": b"\x89PNG\r\n\x1a\n not really"}


def write_briefs(project: Project, version: str, count: int) -> None:
    """`count` small house-layout briefs; version "b" edits every one and renames tag t00."""
    for i in range(count):
        tags = [f"t{i % TAGS:02d}", f"t{(i * 7 + 3) % TAGS:02d}"]
        if version == "b":
            tags = ["t00-renamed" if t == "t00" else t for t in tags]
        day = f"{2000 + i // 336}-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}"
        text = (f"Brief number {i}\n\n{', '.join(dict.fromkeys(tags))}\n\nThe Short of It:\n\n"
                f"Short version {i}, edition {version}.\n\nThe Longer Version of It:\n\n"
                f"Longer version {i}, edition {version}.\n\nThe Takeaway:\n\nTakeaway {i}.\n")
        (project.content / f"{day}-b{i}.txt").write_text(text, encoding="utf-8")


def start_build(project: Project, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "feeder", "build", *args,
                             "-C", str(project.root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def hashes(public: Path) -> dict[str, str]:
    """Every file under public/ (hidden ones too) -> SHA-256 of its bytes."""
    found = {}
    for folder, _, names in os.walk(public):
        for name in names:
            path = Path(folder, name)
            found[path.relative_to(public).as_posix()] = hashlib.sha256(
                path.read_bytes()).hexdigest()
    return found


def is_leftover(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def wait_for(proc: subprocess.Popen[str], condition: Callable[[], bool]) -> float | None:
    """Poll until `condition` holds (returns the time) or the process ends (None)."""
    while proc.poll() is None:
        if condition():
            return time.monotonic()
        time.sleep(0.001)
    return None


def temp_of(path: Path) -> Callable[[], bool]:
    """True once a new temporary file for `path` exists: staging has begun."""
    prefix = f".{path.name}."
    before = {p.name for p in path.parent.iterdir()}  # leftovers of earlier kills

    def staged() -> bool:
        return any(p.name.startswith(prefix) and p.name not in before
                   for p in path.parent.iterdir())
    return staged


def replaced(path: Path) -> Callable[[], bool]:
    """True once `path` is another file than now: the renames have begun."""
    inode = path.stat().st_ino
    return lambda: path.stat().st_ino != inode


@dataclass
class Versions:
    a: dict[str, str]
    b: dict[str, str]
    foreign: dict[str, tuple[bytes, int]]
    seen: dict[str, int] = field(default_factory=dict)

    def check(self, public: Path) -> dict[str, str]:
        """Assert the invariants on public/ as a killed build left it; returns its hashes."""
        now = hashes(public)
        leftovers = [rel for rel in now if is_leftover(rel)]
        files = {rel: h for rel, h in now.items() if not is_leftover(rel)}
        for rel, (data, mtime) in self.foreign.items():
            assert (public / rel).read_bytes() == data, rel
            assert (public / rel).stat().st_mtime_ns == mtime, rel
        versions = set()
        for rel, digest in files.items():
            if rel in self.foreign:
                continue
            assert digest in (self.a.get(rel), self.b.get(rel)), f"{rel} is neither old nor new"
            if self.a.get(rel) != self.b.get(rel):
                versions.add("a" if digest == self.a.get(rel) else "b")
        missing = (set(self.a) & set(self.b)) - set(files)
        assert not missing, f"lost: {sorted(missing)[:5]}"
        claimed = recorded(public.parent / ".feeder-cache" / "feeder.sqlite")[0]
        unclaimed = set(files) - set(claimed) - set(self.foreign)
        assert not unclaimed, f"not in the manifest: {sorted(unclaimed)[:5]}"
        kind = "mixed" if versions == {"a", "b"} else "new" if versions == {"b"} else "old"
        self.seen[kind] = self.seen.get(kind, 0) + 1
        if leftovers:
            self.seen["leftovers"] = self.seen.get("leftovers", 0) + 1
        return now


def restore(public: Path, pristine: Path, now: dict[str, str], old: dict[str, str]) -> None:
    """Put version A back (hard links to a pristine copy; builds never write in place),
    keeping the leftovers of killed builds for the final build to sweep."""
    for rel in now:
        if rel not in old and not is_leftover(rel):
            (public / rel).unlink()
    for rel, digest in old.items():
        if now.get(rel) != digest:
            link = public / f"{rel}.restoring"
            link.parent.mkdir(parents=True, exist_ok=True)
            os.link(pristine / rel, link)
            link.replace(public / rel)


def restore_record(database: Path, pristine: Path) -> None:
    """Put back the record of version A's build (kept with the build state, outside the
    output folder), keeping the cache's memo of the briefs."""
    db = sqlite3.connect(database, isolation_level=None)
    try:
        db.execute("ATTACH DATABASE ? AS pristine", (str(pristine),))
        db.execute("BEGIN")
        for table in ("files", "published"):
            db.execute(f"DELETE FROM {table}")  # noqa: S608
            db.execute(f"INSERT INTO {table} SELECT * FROM pristine.{table}")  # noqa: S608
        db.execute("COMMIT")
        db.execute("DETACH DATABASE pristine")
    finally:
        db.close()


def check_feeds(public: Path, versions: dict[str, str]) -> None:
    """The known versions are valid: the combined feeds parse cleanly, every other feed file
    is well-formed XML or JSON. A file equal to one of them byte for byte is as good."""
    for name in ("atom.xml", "rss.xml"):
        assert parse_feed((public / name).read_bytes()).entries
    assert json.loads((public / "feed.json").read_bytes())["items"]
    for rel in versions:
        if rel.endswith(".xml"):
            etree.parse(str(public / rel))
        elif rel.endswith(".json"):
            json.loads((public / rel).read_bytes())


@pytest.fixture
def big(tmp_path: Path) -> Project:
    project = Project(tmp_path / "site")
    project.settings('title = "Kill test"\nbase_url = "https://news.example.com/"\n')
    project.public.mkdir()
    for rel, data in FOREIGN.items():
        (project.public / rel).parent.mkdir(parents=True, exist_ok=True)
        (project.public / rel).write_bytes(data)
    return project


def test_builds_killed_at_any_moment_leave_every_file_complete(big: Project,
                                                               tmp_path: Path) -> None:
    write_briefs(big, "a", BRIEFS)
    first = start_build(big, "-q")
    assert first.communicate(timeout=300)[1] == ""
    old = hashes(big.public)
    check_feeds(big.public, old)
    pristine = tmp_path / "pristine"
    shutil.copytree(big.public, pristine, copy_function=os.link)
    pristine_record = tmp_path / "pristine.sqlite"
    shutil.copy(big.database, pristine_record)
    foreign = {rel: ((big.public / rel).read_bytes(), (big.public / rel).stat().st_mtime_ns)
               for rel in FOREIGN}

    # B once, to know its files; then, from A again, an unkilled build timed: when staging
    # starts, when the renames start, when it ends. Like the killed builds after it, this one
    # finds B's briefs in the build cache, so its time goes to rendering and writing.
    write_briefs(big, "b", BRIEFS)
    assert start_build(big, "-q").communicate(timeout=300)[1] == ""
    new = hashes(big.public)
    check_feeds(big.public, new)
    both = set(old) & set(new) - set(FOREIGN)
    changed = {rel for rel in both if old[rel] != new[rel]}
    assert len(changed) > 0.9 * len(both), "most files must change for the test to mean much"
    assert set(old) - set(new), "a tag folder goes"
    assert set(new) - set(old), "a tag folder appears"
    versions = Versions(old, new, foreign)
    restore(big.public, pristine, new, old)
    restore_record(big.database, pristine_record)
    assert versions.check(big.public) == old
    first_file = big.public / min(changed)  # the first staged and renamed
    started = time.monotonic()
    measured = start_build(big, "-q")
    staging = wait_for(measured, temp_of(first_file))
    renaming = wait_for(measured, replaced(first_file))
    assert measured.communicate(timeout=300)[1] == ""
    duration = time.monotonic() - started
    assert staging is not None
    assert renaming is not None
    assert hashes(big.public) == new

    # Kills: spread evenly over the whole build (staging takes most of it: feeds are made as
    # they are written), then aimed at the short rename phase, and a last one a little
    # after staging starts, whose leftovers the final build must sweep.
    # Each "any" kill comes at a fraction of the build's duration, which is re-measured
    # whenever a build ends before its kill (this machine's pace varies).
    plans: list[tuple[str, float]] = [
        ("any", (k + 0.5) / UNIFORM_KILLS) for k in range(UNIFORM_KILLS)]
    plans += [("rename", k * 0.004) for k in range(RENAME_KILLS)]
    plans += [("staging", (renaming - staging) * 0.2)]
    now = new
    for number, (kind, when) in enumerate(plans):
        restore(big.public, pristine, now, old)
        restore_record(big.database, pristine_record)
        proc = start_build(big, "-q")
        begun = time.monotonic()
        delay = when * duration if kind == "any" else when
        if kind == "staging":
            begun = wait_for(proc, temp_of(first_file)) or begun
        elif kind == "rename":
            begun = wait_for(proc, replaced(first_file)) or begun
        try:
            proc.wait(timeout=max(0.0, begun + delay - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
        err = proc.communicate(timeout=60)[1]
        if proc.returncode != -signal.SIGKILL:  # it ended before its kill
            assert proc.returncode == 0, f"kill {number} ({kind}): {err}"
            versions.seen["finished"] = versions.seen.get("finished", 0) + 1
            duration = min(duration, time.monotonic() - begun)
        now = versions.check(big.public)
    assert versions.seen.get("leftovers", 0) >= 1, versions.seen
    assert versions.seen.get("mixed", 0) >= 1, versions.seen

    # The last kill was during staging: its leftovers are there (with any earlier ones that
    # no build got far enough to sweep). A build completes, and sweeps them.
    assert any(is_leftover(rel) for rel in now)
    final = subprocess.run([sys.executable, "-m", "feeder", "build", "-C", str(big.root)],
                           capture_output=True, text=True, check=False)
    assert final.returncode == 0, final.stderr
    after = hashes(big.public)
    wrong = sorted(rel for rel in set(after) | set(new)
                   if after.get(rel) != new.get(rel))
    assert not wrong, [(rel, "is old" if after.get(rel) == old.get(rel) else "other")
                       for rel in wrong[:10]]
    assert after.keys() == new.keys()
    assert recorded(big.database)[0].keys() == set(new) - set(FOREIGN)
    versions.check(big.public)


def summary(stderr: str) -> re.Match[str]:
    match = re.search(r"^public: (\d+) written, (\d+) removed, (\d+) unchanged ", stderr, re.M)
    assert match, stderr
    return match


def test_builds_started_at_once_end_with_one_clean_result(big: Project,
                                                          tmp_path: Path) -> None:
    write_briefs(big, "a", 100)
    assert start_build(big, "-q").communicate(timeout=120)[1] == ""
    write_briefs(big, "b", 100)
    # Four builds, all running before any can take the lock (held here until they all wait),
    # then racing for it at once.
    fd = os.open(big.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        procs = [start_build(big) for _ in range(4)]
        for proc in procs:
            assert proc.stderr is not None
            assert proc.stderr.readline().startswith("waiting for another build of this project")
    finally:
        os.close(fd)
    errs = [proc.communicate(timeout=300)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0, 0], errs
    written = sorted(int(summary(err).group(1)) for err in errs)
    assert written[:3] == [0, 0, 0], errs  # one build did the work; the others found it done
    assert written[3] > 100

    clean = Project(tmp_path / "clean")
    shutil.copy(big.root / "feeder.toml", clean.root / "feeder.toml")
    write_briefs(clean, "b", 100)
    assert start_build(clean, "-q").communicate(timeout=120)[1] == ""
    result = hashes(big.public)
    for rel in FOREIGN:
        assert (big.public / rel).read_bytes() == FOREIGN[rel]
        del result[rel]
    assert result == hashes(clean.public)


def test_the_feeds_of_the_generated_projects_are_real(big: Project) -> None:
    """The generator makes ordinary briefs: a small build of them reads as expected."""
    write_briefs(big, "b", 30)
    assert start_build(big, "-q").communicate(timeout=120)[1] == ""
    parsed = feedparser.parse((big.public / "tags" / "t00-renamed" / "atom.xml").read_bytes())
    assert parsed.bozo == 0
    assert [e.title for e in parsed.entries] == ["Brief number 21", "Brief number 0"]
    assert parsed.entries[0].summary == "<p>Short version 21, edition b.</p>"

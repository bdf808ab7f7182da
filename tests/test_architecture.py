"""The pure core stays pure: no file system, process, network or clock outside the edges."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

# Modules allowed to touch the disk, the clock, the network or other processes.
EDGES = {"cli.py", "output.py", "sources.py", "config.py", "lock.py", "cache.py", "serve.py",
         "websub.py", "scaffold.py", "__main__.py", "pipeline.py", "parallel.py",
         "starter.py", "assets.py"}
FORBIDDEN_MODULES = {"os", "shutil", "tempfile", "subprocess", "socket", "urllib.request",
                     "http.client", "http.server", "time", "fcntl", "multiprocessing"}
FORBIDDEN_CALLS = {"open", "print", "input"}
CLOCK = {"now", "utcnow", "today", "time", "perf_counter", "monotonic"}


def _pure_modules() -> list[Path]:
    return [p for p in sorted((REPO / "feeder").glob("*.py")) if p.name not in EDGES]


def test_there_are_pure_modules() -> None:
    names = {p.name for p in _pure_modules()}
    assert {"brief.py", "render.py", "site.py", "feeds.py", "text.py", "dates.py"} <= names


def test_pure_modules_do_no_io_and_read_no_clock() -> None:
    for path in _pure_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                names = []
            for name in names:
                assert name not in FORBIDDEN_MODULES, f"{path.name} imports {name}"
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Name):
                    assert func.id not in FORBIDDEN_CALLS, f"{path.name} calls {func.id}()"
                if isinstance(func, ast.Attribute) and func.attr in CLOCK:
                    owner = ast.unparse(func.value)
                    assert owner not in {"datetime", "date", "time", "datetime.datetime"}, (
                        f"{path.name} reads the clock: {owner}.{func.attr}()")
                if isinstance(func, ast.Attribute) and func.attr in {
                        "read_text", "read_bytes", "write_text", "write_bytes", "open", "unlink",
                        "mkdir", "rmdir", "iterdir", "glob", "rglob", "stat", "exists"}:
                    raise AssertionError(f"{path.name} touches the file system: {func.attr}()")

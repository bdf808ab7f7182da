"""The house: the pure core stays pure, and no module imports one above it."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import REPO

# The pipeline, bottom up: each module imports only modules before it in this list.
LAYERS = ["errors", "text", "dates", "images", "attachments", "sources", "config", "static",
          "frontmatter", "sections", "brief", "render", "media", "site", "explain", "feeds",
          "archive", "opml", "pages", "extras", "plan", "tags", "stability", "lock", "cache",
          "manifest", "output", "workers", "websub", "pipeline", "serve", "clihelp", "scaffold",
          "cli", "__main__"]
PURE_CORE = {"images", "attachments", "sections", "brief", "render", "media", "site",
             "explain", "archive", "feeds", "pages", "extras", "opml", "plan"}
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()
NOT_FOR_THE_CORE = {"cache", "manifest", "output", "workers", "sources", "pipeline"}
FORBIDDEN_MODULES = {"os", "shutil", "tempfile", "subprocess", "socket", "urllib.request",
                     "http.client", "http.server", "time", "fcntl", "multiprocessing",
                     "sqlite3", "concurrent.futures"}
FORBIDDEN_CALLS = {"open", "print", "input"}
CLOCK = {"now", "utcnow", "today", "time", "perf_counter", "monotonic"}
FILE_METHODS = {"read_text", "read_bytes", "write_text", "write_bytes", "open", "unlink",
                "mkdir", "rmdir", "iterdir", "glob", "rglob", "stat", "exists"}


def _imports(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.append(node.module or "")
            if node.module == "feeder":
                names += [f"feeder.{alias.name}" for alias in node.names]
    return names


def _modules() -> dict[str, ast.AST]:
    return {p.stem: ast.parse(p.read_text(encoding="utf-8"))
            for p in sorted((REPO / "feeder").glob("*.py")) if p.stem != "__init__"}


def test_every_module_has_its_layer() -> None:
    assert set(_modules()) == set(LAYERS)


def test_no_module_imports_one_above_it() -> None:
    for name, tree in _modules().items():
        for imported in _imports(tree):
            if imported.startswith("feeder.") and imported != "feeder.__version__":
                other = imported.split(".")[1]
                if other in LAYERS:
                    assert LAYERS.index(other) < LAYERS.index(name), f"{name} imports {other}"


def test_the_pure_core_does_no_io_reads_no_clock_and_knows_no_cache() -> None:
    for name, tree in _modules().items():
        if name not in PURE_CORE:
            continue
        for imported in _imports(tree):
            assert imported not in FORBIDDEN_MODULES, f"{name} imports {imported}"
            assert imported.removeprefix("feeder.") not in NOT_FOR_THE_CORE or \
                (name, imported) in KNOWN_EXCEPTIONS, f"{name} imports {imported}"
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name):
                assert func.id not in FORBIDDEN_CALLS, f"{name} calls {func.id}()"
            if isinstance(func, ast.Attribute):
                owner = ast.unparse(func.value)
                assert not (func.attr in CLOCK and owner in {"datetime", "date", "time"}), \
                    f"{name} reads the clock: {owner}.{func.attr}()"
                assert func.attr not in FILE_METHODS, f"{name} touches the file system"


def test_the_budgets_hold() -> None:
    for path in sorted((REPO / "feeder").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        assert lines <= 450 or (path.name, "size") in KNOWN_EXCEPTIONS, \
            f"{path.name} has {lines} lines"
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                assert length <= 60 or (path.name, node.name) in KNOWN_EXCEPTIONS, \
                    f"{path.name}: {node.name} has {length} lines"


@pytest.mark.xfail(reason="feeder/ is about 7,000 lines, over its 6,000: the parser, the "
                          "first-hour outputs, pictures and hardening that came after the "
                          "restructuring did not all fit back in (issue 19)")
def test_feeder_is_within_its_budget_of_lines() -> None:
    total = sum(path.read_text(encoding="utf-8").count("\n")
                for path in (REPO / "feeder").glob("*.py"))
    assert total <= 6000, f"feeder/ has {total} lines"

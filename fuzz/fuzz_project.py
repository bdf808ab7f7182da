"""Coverage-guided fuzzing of what surrounds the briefs: file names and settings files.

The first byte of each input picks what the rest becomes, in a fresh project folder:

- even: the name of a brief file (any bytes but `/` and NUL, cut to 255 bytes; an input
  with a `/` makes a folder for each part), listed by `scan_content` and `read_templates`;
- odd: the bytes of `feeder.toml` (or, every fourth input, of `pyproject.toml`), read by
  `load_config`.

The contract checked on every input:

- nothing raises but the project's own errors (`ConfigError` for settings and templates):
  no traceback, whatever the name or the settings hold;
- every problem prints as exactly one line (`str(problem)` holds no line break or control
  character), names a file of the project, and a file is either listed or named by a problem;
- a Config that loads has an output folder that holds neither the project nor its briefs,
  and a cache folder apart from the output.

Run it like fuzz_brief.py (not part of CI; see docs/RELIABILITY.md):

    .venv/bin/pip install atheris
    mkdir -p /tmp/feeder-fuzz-project
    .venv/bin/python fuzz/fuzz_project.py /tmp/feeder-fuzz-project -max_total_time=300

`--replay FOLDER...` runs every input of the folders once, without atheris.
"""

from __future__ import annotations

import os
import sys
import tempfile
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

try:
    import atheris
except ImportError:  # --replay needs no atheris
    atheris = None

if atheris is not None:
    with atheris.instrument_imports(include=["feeder", "tomllib"]):
        from feeder.config import load_config
        from feeder.errors import ConfigError, Problem
        from feeder.sources import read_templates, scan_content
else:
    from feeder.config import load_config
    from feeder.errors import ConfigError, Problem
    from feeder.sources import read_templates, scan_content

BRIEF = b"A Title\n\nx, y\n\nThe Short of It:\n\nShort.\n"


class ContractBroken(AssertionError):
    """The input made feeder break its contract: the fuzzer reports it as a crash."""


def expect(condition: object, *detail: object) -> None:
    if not condition:
        raise ContractBroken(*detail)


def check_lines(problems: tuple[Problem, ...]) -> None:
    for problem in problems:
        line = str(problem)
        expect(len(line.splitlines()) == 1, "a problem is not one line", line)
        expect(not any(unicodedata.category(char) in ("Cc", "Cs") for char in line),
               "a problem holds a control character or a lone surrogate", line)


def fuzz_name(root: Path, name: bytes) -> None:
    parts = [part[:255] for part in name.replace(b"\0", b"").split(b"/") if part]
    if not parts or any(part in (b".", b"..") for part in parts):
        return
    content = root / "content"
    for top in (content, root / "templates"):
        folder = os.fsencode(top)
        for part in parts[:-1]:
            folder += b"/" + part
            os.makedirs(folder, exist_ok=True)  # noqa: PTH103 - bytes path
        with open(folder + b"/" + parts[-1], "wb") as handle:  # noqa: PTH123 - bytes path
            handle.write(BRIEF)
    config, _ = load_config(root)
    found, problems = scan_content(content, root, config.max_brief_bytes)
    check_lines(problems)
    named = {problem.path for problem in problems}
    listed = {info.path for info in found}
    expect(listed or named or not parts[-1].endswith((b".md", b".txt", b".markdown"))
           or any(part.startswith(b".") for part in parts), "a brief file went unnoticed")
    try:
        read_templates(root)
    except ConfigError as err:
        check_lines(err.problems)


def fuzz_settings(root: Path, data: bytes, file: str) -> None:
    (root / file).write_bytes(data)
    try:
        config, warnings = load_config(root)
    except ConfigError as err:
        check_lines(err.problems)
        expect(err.problems, "a ConfigError without a problem")
        return
    check_lines(warnings)
    output = Path(os.path.realpath(config.output_dir))
    expect(not Path(os.path.realpath(root)).is_relative_to(output), "output holds the project")
    expect(not Path(os.path.realpath(config.content_dir)).is_relative_to(output),
           "output holds the briefs")
    if config.cache_dir is not None:
        cache = Path(os.path.realpath(config.cache_dir))
        expect(not cache.is_relative_to(output) and not output.is_relative_to(cache),
               "cache and output overlap")


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "content").mkdir()
        (root / "templates").mkdir()
        if data[0] % 2 == 0:
            fuzz_name(root, data[1:])
        else:
            fuzz_settings(root, data[1:], "pyproject.toml" if data[0] % 4 == 3 else "feeder.toml")


def replay(folders: list[str]) -> None:
    paths = [path for folder in folders for path in sorted(Path(folder).rglob("*"))
             if path.is_file()]
    for path in paths:
        TestOneInput(path.read_bytes())
    sys.stdout.write(f"replayed {len(paths)} inputs without a failure\n")


def main() -> None:
    if sys.argv[1:2] == ["--replay"]:
        replay(sys.argv[2:])
        return
    if atheris is None:
        sys.exit("pip install atheris (or use --replay FOLDER...)")
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

"""Coverage-guided fuzzing of the brief parser and everything pure after it (atheris).

Each input is the bytes of one brief file. It is decoded as feeder decodes files, parsed,
and, when it parses, rendered, indexed and written as Atom, RSS and JSON Feed in memory.
The contract checked on every input:

- nothing raises: a bad brief is reported as `Problem`s, never as an exception;
- every problem's line is inside the file, and a brief comes back exactly when there is no
  error;
- the rendered HTML has no script, frame, event handler or javascript:/data: URL;
- the Atom and RSS documents are well-formed XML, the JSON Feed is valid JSON.

Run it (not part of CI; see docs/RELIABILITY.md):

    .venv/bin/pip install atheris
    mkdir -p /tmp/feeder-fuzz
    .venv/bin/python fuzz/fuzz_brief.py /tmp/feeder-fuzz content/ \
        -dict=fuzz/brief.dict -max_total_time=300 -timeout=20 -rss_limit_mb=4096

The first folder collects the inputs that reached new code; `content/` is the seed corpus.
A crash stops the run and saves the input as `crash-<sha1>`; replay it with
`.venv/bin/python fuzz/fuzz_brief.py crash-<sha1>`. The line coverage of feeder reached by
a corpus (with coverage.py installed):

    .venv/bin/python -m coverage run --source=feeder fuzz/fuzz_brief.py --replay \
        /tmp/feeder-fuzz content/
    .venv/bin/python -m coverage report
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # feeder and tests/safety.py

with atheris.instrument_imports(include=["feeder", "markdown", "dateutil", "yaml"]):
    from feeder.brief import parse_brief
    from feeder.config import parse_config
    from feeder.errors import Problem
    from feeder.feeds import RENDERERS
    from feeder.plan import site_of
    from feeder.render import render
    from feeder.site import Body, brief_url, candidate, group_feeds, index_tags, make_entries
    from feeder.sources import decode
    from tests.safety import html_findings, xml_findings

CONFIG = parse_config({"base_url": "https://news.example.com/"}, root=Path("/project"))
RAW_CONFIG = parse_config({"base_url": "https://news.example.com/", "allow_raw_html": True},
                          root=Path("/project"))
# The input's length picks the file name, so that dates from file names (valid, impossible,
# missing) are fuzzed too while every byte stays brief text (the seeds are real briefs).
NAMES = ("2016-10-04-fuzz.md", "fuzz.md", "2016-02-30-fuzz.txt", "2016-10-04-.txt",
         "sub/2016-10-04-fuzz.markdown")


class ContractBroken(AssertionError):
    """The input made feeder break its contract: the fuzzer reports it as a crash."""


def expect(condition: object, *detail: object) -> None:
    if not condition:
        raise ContractBroken(*detail)


def check_problems(problems: tuple[Problem, ...], text: str) -> None:
    lines = text.count("\n") + 1
    for problem in problems:
        expect(isinstance(problem, Problem), problem)
        expect(problem.line is None or 1 <= problem.line <= lines, str(problem), lines)
        expect(problem.message and "\n" not in problem.message, str(problem))


def TestOneInput(data: bytes) -> None:  # the name atheris looks for
    name = NAMES[len(data) % len(NAMES)]
    raw = len(data) % 11 == 0  # allow_raw_html for one input in eleven
    decoded = decode(data, f"content/{name}", name)
    if isinstance(decoded, Problem):
        check_problems((decoded,), data.decode("utf-8", "replace"))
        return
    config = RAW_CONFIG if raw else CONFIG
    brief, problems = parse_brief(decoded, config)
    check_problems(problems, decoded.text)
    expect((brief is None) == any(p.is_error for p in problems), problems)
    if brief is None:
        return
    rendered = render(brief.summary, brief.content, brief_url(config, brief),
                      allow_raw_html=config.allow_raw_html)
    if not raw:
        for html in (rendered.summary_html, rendered.content_html):
            expect(not html_findings(html), html_findings(html), html)
    tags, tag_problems = index_tags([brief])
    expect(not tag_problems, tag_problems)
    entries = make_entries([candidate(config, brief, Body.of(rendered))], tags)
    site = site_of(group_feeds(entries, config), config)
    for feed in site.feeds:
        expect(".." not in feed.folder.split("/"), feed.folder)
        for file_name, write in RENDERERS.items():
            document = write(feed, config)
            if file_name.endswith(".json"):
                json.loads(document)
            elif raw:
                xml_findings(document)  # well-formed; raw HTML may hold anything
            else:
                expect(not xml_findings(document), xml_findings(document))


def replay(folders: list[str]) -> None:
    """Run every input of the corpus folders once (for coverage.py), without atheris."""
    paths = sorted(p for folder in folders for p in Path(folder).rglob("*") if p.is_file())
    for path in paths:
        TestOneInput(path.read_bytes())
    sys.stdout.write(f"replayed {len(paths)} inputs without a failure\n")


def main() -> None:
    if sys.argv[1:2] == ["--replay"]:
        replay(sys.argv[2:])
        return
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

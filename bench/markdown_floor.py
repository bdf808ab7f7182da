"""The floor under a cold build: every brief's body rendered by Python-Markdown, nothing else.

Usage::

    python bench/markdown_floor.py CORPUS_DIR

Reads every brief of the corpus (its Hugo copy: the same Markdown body as feeder's,
under plain front matter), drops the front matter and renders the body with the
extensions feeder uses ("extra" and "sane_lists"), one Markdown instance reset between
briefs. It parses no dates or tags, sanitises nothing and writes nothing. bench/run.py
times it as the tool "md-floor" in the cold-build scenario.
"""

from __future__ import annotations

import sys
from pathlib import Path

import markdown


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    root = Path(argv[0]) / "hugo" / "content"
    md = markdown.Markdown(extensions=["extra", "sane_lists"], output_format="html")
    briefs = html_bytes = 0
    for path in sorted(root.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        body = text.split("\n---\n", 1)[1] if text.startswith("---\n") else text
        html_bytes += len(md.reset().convert(body))
        briefs += 1
    print(f"rendered {briefs} briefs to {html_bytes} characters of HTML")
    return 0 if briefs else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

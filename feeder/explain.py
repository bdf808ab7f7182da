"""`feeder check --explain`: how feeder read a brief, for a writer whose summary looks wrong
(pure: a `Source` and the time in, a dictionary or text out); and which briefs are drafts."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from feeder import frontmatter
from feeder.brief import Reading, read_brief
from feeder.config import Config
from feeder.errors import Problem
from feeder.text import Source, slugify


def _field(source: Source | Problem, key: str) -> frontmatter.Field | None:
    """The front matter field `key` of a brief (whatever else is wrong in it), or None."""
    if isinstance(source, Problem) or not source.text.startswith("---") or key not in source.text:
        return None
    read = frontmatter.read(source.text, source.path)
    return None if isinstance(read, Problem) else read[0].get(key)


def is_draft(source: Source | Problem) -> bool:
    """Whether the brief's front matter says `draft: true` (whatever else is wrong in it)."""
    field = _field(source, "draft")
    return field is not None and field.value is True


def explain(source: Source | Problem, config: Config, now: datetime) -> dict[str, Any]:
    """Everything feeder made of one brief (or why it could not be read): `brief` is None
    when it has errors."""
    from feeder.render import render
    from feeder.site import brief_url, entry_id

    reading = (Reading(None, (source,), ()) if isinstance(source, Problem)
               else read_brief(source, config))
    brief = reading.brief
    item: dict[str, Any] = {
        "path": source.path, "valid": brief is not None, "brief": None,
        "sections": [{"line": h.line, "level": h.level, "label": h.label, "blocks": h.texts}
                     for h in reading.headings],
        "problems": [str(problem) for problem in reading.problems]}
    if brief is None:
        return item
    url = brief_url(config, brief)
    item["brief"] = {
        "title": brief.title, "date": brief.date.isoformat(),
        "date_from": "file name" if _field(source, "date") is None else "front matter",
        "updated": brief.updated.isoformat() if brief.updated else None,
        "tags": [{"name": tag, "slug": slugify(tag)} for tag in brief.tags],
        "slug": brief.slug, "id": entry_id(config, brief), "url": url,
        "draft": brief.draft, "future": brief.date > now,
        "status": "draft" if brief.draft else "future" if brief.date > now else "published",
        "summary": render(brief.summary, brief.content, url,
                          allow_raw_html=config.allow_raw_html).summary_text,
    }
    return item


def failed(explained: Iterable[dict[str, Any]], *, strict: bool) -> bool:
    """Whether a brief explained has an error (or, `strict`, a warning)."""
    return any(not item["valid"] or (strict and item["problems"]) for item in explained)


_STATUS = {"published": "published", "draft": "draft: not published (draft: true)",
           "future": "dated in the future: not published yet"}


def as_text(explained: Iterable[dict[str, Any]]) -> str:
    """The explanations for people: one block of `key: value` lines per brief."""
    blocks = []
    for item in explained:
        lines = [item["path"]]
        brief = item["brief"]
        if brief is None:
            lines.append("  not valid: it is not published (see the problems below)")
        else:
            tags = ", ".join(f"{tag['name']} ({tag['slug']})" for tag in brief["tags"])
            lines += [f"  title:    {brief['title']}",
                      f"  date:     {brief['date']} (from the {brief['date_from']})",
                      f"  tags:     {tags or '(none)'}", f"  slug:     {brief['slug']}",
                      f"  id:       {brief['id']}", f"  url:      {brief['url']}",
                      f"  status:   {_STATUS[brief['status']]}"]
        lines.append("  sections:" if item["sections"] else "  sections: none found")
        for section in item["sections"]:
            count = section["blocks"]  # a sub-label (level 3) is indented under its section
            lines.append(f"  line {section['line']:<5}{'  ' * section['level']}{section['label']} "
                         f"({count} block{'' if count == 1 else 's'} of text)")
        if brief is not None:
            lines.append(f"  summary:  {brief['summary'] or '(empty)'}")
        lines += [f"  {problem}" for problem in item["problems"]]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def as_json(explained: Iterable[dict[str, Any]]) -> str:
    """The explanations for scripts: a JSON array, one object per brief."""
    return json.dumps(list(explained), ensure_ascii=False, indent=2)

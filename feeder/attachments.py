"""The files briefs bring in content/ (pictures, PDFs, sound): which are published, where, and
the links and lead images that name them. Pure. (The site's own files: feeder/static.py.)

Every file of the content folder that is neither a brief nor hidden is an *asset*: one of a
brief written as a folder (`2016-10-14-aleppo/index.md`, the folder's name giving the date and
slug) is published under the brief's URL; one of a shared folder (`img/map.png`) at its path
under `base_url`. Briefs link them with relative links, resolved against the brief's file as a
Markdown preview resolves them; URLs percent-encode any file name (`quote`).
"""

from __future__ import annotations

import html
import posixpath
import re
from bisect import bisect_right
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from feeder.errors import Problem
from feeder.images import ImageInfo, media_type
from feeder.text import did_you_mean

BRIEF_SUFFIXES = (".md", ".markdown", ".txt")


def is_hidden(rel: str) -> bool:
    return any(part.startswith(".") for part in rel.split("/"))


def is_brief_file(rel: str) -> bool:
    return rel.endswith(BRIEF_SUFFIXES)


def is_folder_brief(rel: str) -> bool:
    """Whether `rel` is the text of a brief written as a folder (`<date>-<slug>/index.md`)."""
    folder, _, name = rel.rpartition("/")
    return folder != "" and name.rpartition(".")[0] == "index" and is_brief_file(rel)


def brief_name(rel: str) -> str:
    """The name a brief's date and slug come from: its file's, or its folder's for a brief
    written as a folder (`2016-10-14-aleppo/index.md` -> `2016-10-14-aleppo.md`)."""
    path = PurePosixPath(rel)
    return path.parent.name + path.suffix if is_folder_brief(rel) else path.name


@dataclass(frozen=True, slots=True)
class Asset:
    """One published file: its path in the content folder and in the output folder, its URL,
    its size, and the folder brief it is published with (its `rel`; None: a shared folder)."""

    rel: str
    path: str
    url: str
    size: int
    brief: str | None


def _shown(content: str, rel: str) -> str:
    return rel if content == "." else f"{content}/{rel}"


def plan_assets(files: Mapping[str, int], base_url: str, brief_urls: Mapping[str, str], *,
                content: str = "content", max_bytes: int = 20 << 20
                ) -> tuple[dict[str, Asset], tuple[Problem, ...]]:
    """The published assets among `files` (path in the content folder -> size), by path,
    and the problems found. A folder brief's files are published under its page's URL in
    `brief_urls`, or not at all when it is not there (not published). `content`: the content
    folder as messages name it."""
    folders = {str(PurePosixPath(rel).parent): rel for rel in sorted(files, reverse=True)
               if is_folder_brief(rel)}
    assets: dict[str, Asset] = {}
    problems: list[Problem] = []
    by_path: dict[str, str] = {}
    for rel in sorted(files):
        if is_brief_file(rel) or is_hidden(rel):
            continue
        if files[rel] > max_bytes:
            problems.append(Problem(_shown(content, rel), None,
                                    f"file is {files[rel]:,} bytes, over the limit of "
                                    f"{max_bytes:,} (setting max_asset_bytes)"))
            continue
        folder = posixpath.dirname(rel)  # the nearest folder of a folder brief, if any
        while folder and folder not in folders:
            folder = posixpath.dirname(folder)
        owner = folders.get(folder)
        if owner is None:
            path = rel
        elif owner in brief_urls:
            page = unquote(brief_urls[owner][len(base_url):])
            path = page + rel[len(posixpath.dirname(owner)) + 1:]
        else:
            continue
        other = by_path.setdefault(path.casefold(), rel)
        if other != rel:
            problems.append(Problem(_shown(content, rel), None,
                                    f"published at {path}, as {_shown(content, other)} is; "
                                    "rename one of them"))
            continue
        assets[rel] = Asset(rel, path, base_url + quote(path), files[rel], owner)
    return assets, tuple(problems)


def clashes(assets: Iterable[Asset], outputs: Collection[str],
            content: str = "content") -> tuple[Problem, ...]:
    """An error for each asset published where feeder writes a file (`outputs`: their paths)."""
    taken = {path.casefold() for path in outputs}
    return tuple(Problem(_shown(content, asset.rel), None,
                         f"published at {asset.path}, where feeder writes another file (a "
                         "page, a feed, a file of static/); rename or move it") for asset in assets
                 if asset.path.casefold() in taken)


@dataclass(frozen=True, slots=True)
class Link:
    """A link or image in a brief's text."""

    target: str
    """As written (character references decoded, `<...>` brackets removed)."""
    line: int
    image: bool
    alt: str = ""


_FENCED = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,}).*?(?:^[ \t]{0,3}\1[`~]*[ \t]*$|\Z)",
                     re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?!`)(?:[^\n]|\n(?![ \t]*\n))+?(?<!`)\1(?!`)")
"""A code span: within one paragraph."""
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_TARGET = r"(<[^<>\n]*>|(?:[^\s()<>]|\([^\s()]*\))+)"
_INLINE = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*" + _TARGET)
_DEFINITION = re.compile(r"^[ \t]{0,3}\[([^\]\n^][^\]\n]*)\]:[ \t]*" + _TARGET, re.MULTILINE)
"""A reference definition (`[^1]: ...` is a footnote's)."""
_REFERENCE_IMAGE = re.compile(r"!\[((?:[^\[\]]|\[[^\[\]]*\])*)\](?:\[([^\]\n]*)\])?(?![(:])")
_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)\b([^<>]*)>")
_ATTRIBUTE = re.compile(r"""\b(src|href|poster|alt)\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)""",
                        re.IGNORECASE)


def _blank(match: re.Match[str]) -> str:
    """The matched text with everything but line ends as spaces (positions kept)."""
    return re.sub(r"[^\n]", " ", match.group(0))


def _unwrap(target: str) -> str:
    return html.unescape(target[1:-1] if target.startswith("<") else target)


def find_links(text: str) -> tuple[Link, ...]:
    """The links and images of a brief's text (Markdown or HTML), in order, with the line of
    each (1-based, counting from the first line of `text`): inline links and images,
    reference definitions and images, and the `src`, `href` and `poster` of HTML tags.
    Fenced code, code spans and HTML comments hold none."""
    text = _COMMENT.sub(_blank, _CODE_SPAN.sub(_blank, _FENCED.sub(_blank, text)))
    starts = [0] + [match.end() for match in re.finditer("\n", text)]
    found: list[tuple[int, Link]] = []

    def add(at: int, target: str, *, image: bool, alt: str = "") -> None:
        found.append((at, Link(_unwrap(target), bisect_right(starts, at), image, alt)))

    definitions: dict[str, str] = {}
    for match in _DEFINITION.finditer(text):
        definitions.setdefault(match.group(1).strip().casefold(), match.group(2))
        add(match.start(2), match.group(2), image=False)
    for match in _INLINE.finditer(text):
        add(match.start(3), match.group(3), image=bool(match.group(1)), alt=match.group(2))
    for match in _REFERENCE_IMAGE.finditer(text):
        label = (match.group(2) or match.group(1)).strip().casefold()
        if label in definitions:  # where the image is, for the lead image (not checked again)
            add(match.start(), definitions[label], image=True, alt=match.group(1))
    for tag in _TAG.finditer(text):
        attributes = {m.group(1).lower(): m for m in _ATTRIBUTE.finditer(tag.group(2))}
        alt = attributes.pop("alt", None)
        for name, match in attributes.items():
            value = match.group(2).strip("\"'")
            is_image = tag.group(1).lower() == "img" and name == "src"
            add(tag.start(2) + match.start(2), value, image=is_image,
                alt=html.unescape(alt.group(2).strip("\"'")) if alt and is_image else "")
    return tuple(link for _at, link in sorted(found, key=lambda item: item[0]))


_NO_FILE = re.compile(r"\s*(?:[A-Za-z][A-Za-z0-9+.-]*:|/|#|$)")
"""The start of a link that names no file of the content folder, as urlsplit reads it: a
scheme, another host or the site's root (`/`, `//`), a place in the page, or nothing."""


def names_file(target: str) -> bool:
    return _NO_FILE.match(target) is None


def resolve(brief_rel: str, target: str) -> str | None:
    """The file in the content folder that a link of the brief `brief_rel` names (`..` first
    when it leaves the folder), or None for a link with a scheme, to another host, from the
    site's root or to a place in the page itself."""
    if not names_file(target):  # most links of a brief: a build checks every brief's links
        return None
    parts = urlsplit(target.strip())
    if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
        return None
    return posixpath.normpath(posixpath.join(posixpath.dirname(brief_rel),
                                             unquote(parts.path)))


def leaves_content(rel: str) -> bool:
    return rel == ".." or rel.startswith("../")


def check_links(path: str, brief_rel: str, links: Iterable[Link], files: Collection[str],
                assets: Mapping[str, Asset], lead: Link | None = None) -> tuple[Problem, ...]:
    """The problems of a brief's relative links and lead image (`path`: the brief as messages
    name it; `files`: every file in the content folder): an error for one that leaves the
    content folder, a warning for one that names no published file."""
    problems: list[Problem] = []
    seen = set()
    for link in (*links, *([lead] if lead else [])):
        rel = resolve(brief_rel, link.target)
        if rel is None or (link.target.strip(), link.line) in seen:
            continue
        seen.add((link.target.strip(), link.line))
        reason = _wrong(brief_rel, rel, files, assets, lead=link is lead)
        if reason:
            what = f"{'image' if link.image else 'link'} {link.target!r}"
            problems.append(Problem(path, link.line, f"{what} {reason}",
                                    "error" if leaves_content(rel) else "warning"))
    return tuple(problems)


def _wrong(brief_rel: str, rel: str, files: Collection[str], assets: Mapping[str, Asset], *,
           lead: bool) -> str | None:
    asset = assets.get(rel)
    if asset is not None:
        if asset.brief not in (None, brief_rel):
            return (f"names a file published with {asset.brief}: link it from that brief, "
                    "or move it to a shared folder")
        kind = media_type(rel)
        if lead and (kind is None or not kind.startswith("image/")):
            return "is not a picture (PNG, JPEG, GIF, WebP, SVG or AVIF)"
        return None
    if leaves_content(rel):
        return "leaves the content folder; only files inside it are published"
    if is_hidden(rel):
        return "names a hidden file, which is never published"
    if rel in files and is_brief_file(rel):
        return "names a brief's text, which is not published: link to the brief's page"
    if rel in files:
        return "names a file that is not published (its brief is not)"
    folder, name = posixpath.split(rel)
    hint = did_you_mean(name, [posixpath.basename(other) for other in files
                               if posixpath.dirname(other) == folder])
    return f"names no file: {rel} is not in the content folder{hint}"


@dataclass(frozen=True, slots=True)
class LeadImage:
    """A brief's lead image, as feeds and pages announce it."""

    url: str
    alt: str
    media_type: str | None
    size: int | None  # in bytes, when the file is published here
    width: int | None
    height: int | None


def choose_lead(path: str, fields: Mapping[str, Any], links: Iterable[Link]
                ) -> tuple[Link | None, tuple[Problem, ...]]:
    """The lead image a brief asks for (unresolved: see `lead_image`) and the problems of its
    front matter `image` and `image_alt` (`fields`, by key). `image:` names it (a relative
    path or an http(s) URL), `image: none` turns it off; without it, the first image leads."""
    image, image_alt = fields.get("image"), fields.get("image_alt")
    alt = image_alt.value if image_alt else None
    if image_alt is not None and not isinstance(alt, str):
        return None, (Problem(path, image_alt.line, "image_alt must be text"),)
    images = [link for link in links if link.image and _may_lead(link.target)]
    if image is None or image.value is None:
        first = images[0] if images else None
        return first and Link(first.target.strip(), first.line, True, alt or first.alt), ()
    value = image.value
    if value is False or (isinstance(value, str) and value.strip().lower() == "none"):
        return None, ()
    if not isinstance(value, str):
        return None, (Problem(path, image.line, "image must be a path or an https: URL, or none"),)
    value = value.strip()
    if not _may_lead(value):
        return None, (Problem(path, image.line, f"image {value!r} must be a path relative to "
                                                "the brief or an http: or https: URL"),)
    if alt is None:
        alt = next((link.alt for link in images if link.target.strip() == value), "")
    return Link(value, image.line, True, alt), ()


def _may_lead(target: str) -> bool:
    """Whether `target` may be a lead image: a relative path, or an http(s) URL (never
    `javascript:` or `data:`)."""
    parts = urlsplit(target.strip())
    return not (parts.scheme or parts.netloc) or (
        parts.scheme.lower() in ("http", "https") and bool(parts.netloc))


def lead_image(lead: Link, brief_rel: str, assets: Mapping[str, Asset],
               infos: Mapping[str, ImageInfo | None]) -> LeadImage | None:
    """The lead image `lead` names: an http(s) URL, or a published picture (`infos`: their
    headers, by path in the content folder); None when it names none (check_links says why)."""
    parts = urlsplit(lead.target)
    if parts.scheme or parts.netloc:
        return LeadImage(lead.target, lead.alt, media_type(parts.path), None, None, None) \
            if _may_lead(lead.target) else None
    rel = resolve(brief_rel, lead.target) or ""
    asset = assets.get(rel)
    if asset is None:
        return None
    info = infos.get(rel)
    kind = info.media_type if info else media_type(rel)
    if kind is None or not kind.startswith("image/"):
        return None
    return LeadImage(asset.url, lead.alt, kind, asset.size, info.width if info else None,
                     info.height if info else None)


Media = tuple[LeadImage | None, tuple[tuple[str, int, int], ...]]
"""A brief's lead image, and the width and height of its pictures by URL (media.with_sizes)."""


@dataclass(frozen=True, slots=True)
class Linked:
    """What the links of a site's briefs say: their problems, the Media of each published
    brief (by path in the content folder), and the files of folder briefs none links."""

    problems: tuple[Problem, ...]
    media: dict[str, Media]
    unused: tuple[str, ...]


def check_all(briefs: Iterable[Any], published: Collection[str], files: Collection[str],
              assets: Mapping[str, Asset], infos: Mapping[str, ImageInfo | None]) -> Linked:
    """The links of `briefs` (parsed: with `rel`, `path`, `links`, `lead`), checked; the
    media of those of them that are `published` (by path in the content folder)."""
    problems: list[Problem] = []
    media: dict[str, Media] = {}
    linked: set[str] = set()
    for brief in briefs:
        problems += check_links(brief.path, brief.rel, brief.links, files, assets, brief.lead)
        targets = [(link, rel) for link in (*brief.links, *([brief.lead] if brief.lead else []))
                   if (rel := resolve(brief.rel, link.target)) is not None]
        linked.update(rel for _, rel in targets)
        if brief.rel in published:
            sizes = {assets[rel].url: (info.width, info.height) for link, rel in targets
                     if link.image and rel in assets and (info := infos.get(rel))}
            media[brief.rel] = (brief.lead and lead_image(brief.lead, brief.rel, assets, infos),
                                tuple((url, *size) for url, size in sorted(sizes.items())))
    unused = tuple(rel for rel, asset in assets.items()
                   if asset.brief is not None and rel not in linked)
    return Linked(tuple(problems), media, unused)


def published_url(brief_rel: str, page_url: str, base_url: str, target: str) -> str | None:
    """Where a relative link of the brief `brief_rel` (whose page is at `page_url`) points
    once published, whether or not the file exists (a brief's HTML depends on it alone): a
    folder brief's own files beside its page, others under `base_url`. None: leave it."""
    rel = resolve(brief_rel, target)
    if rel is None or leaves_content(rel) or rel == ".":
        return None
    folder = posixpath.dirname(brief_rel) + "/" if is_folder_brief(brief_rel) else None
    url = page_url + quote(rel[len(folder):]) if folder and rel.startswith(folder) \
        else base_url + quote(rel)
    parts = urlsplit(target.strip())
    url += "/" if parts.path.endswith("/") and not url.endswith("/") else ""
    return url + (f"?{parts.query}" if parts.query else "") \
        + (f"#{parts.fragment}" if parts.fragment else "")

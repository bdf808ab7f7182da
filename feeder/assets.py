"""The files that briefs bring (pictures, PDFs, sound): which are published, where, and the
links and lead images that name them. Pure: file names and sizes in, URLs and problems out.

Every file under the content folder that is not a brief (by its suffix) and not hidden is
an *asset*, in one of two layouts:

- a brief as a folder: `2016-10-14-aleppo/index.md` (or `.txt`, `.markdown`) with its files
  beside it; the folder's name gives the date and slug, as a brief file's name does, and
  its files (subfolders included) are published under the brief's URL;
- shared folders (`img/map.png`): published at the same path under `base_url`.

A brief links an asset with an ordinary relative link, resolved against the brief's file on
disk as an editor previewing the Markdown resolves it; the published HTML points at the
asset's URL. File names are percent-encoded in URLs, never refused.
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

from feeder.errors import Problem, Severity
from feeder.images import ImageInfo, media_type
from feeder.sources import BRIEF_SUFFIXES
from feeder.text import did_you_mean

FOLDER_BRIEF_STEM = "index"
MAX_ASSET_BYTES = 20 << 20
"""The default of the setting `max_asset_bytes`: a file bigger than that is an error."""
NONE = "none"
"""`image: none` in front matter: the brief has no lead image."""


def is_hidden(rel: str) -> bool:
    return any(part.startswith(".") for part in rel.split("/"))


def is_brief_file(rel: str) -> bool:
    return rel.endswith(BRIEF_SUFFIXES)


def is_asset(rel: str) -> bool:
    """Whether the file `rel` (relative to the content folder) is published as an asset."""
    return not is_brief_file(rel) and not is_hidden(rel)


def is_folder_brief(rel: str) -> bool:
    """Whether `rel` is the text of a brief written as a folder (`<date>-<slug>/index.md`)."""
    path = PurePosixPath(rel)
    return path.stem == FOLDER_BRIEF_STEM and path.parent.name != "" and is_brief_file(rel)


def brief_name(rel: str) -> str:
    """The name a brief's date and slug come from: its file's, or its folder's for a brief
    written as a folder (`2016-10-14-aleppo/index.md` -> `2016-10-14-aleppo.md`)."""
    path = PurePosixPath(rel)
    return path.parent.name + path.suffix if is_folder_brief(rel) else path.name


def encode_path(path: str) -> str:
    """A POSIX path as URL path segments: anything but letters, digits and `-._~`
    percent-encoded (UTF-8), so that any file name makes a working link."""
    return "/".join(quote(part, safe="") for part in path.split("/"))


@dataclass(frozen=True, slots=True)
class Asset:
    """One published file."""

    rel: str
    """Its path in the content folder."""
    path: str
    """Its path in the output folder (POSIX)."""
    url: str
    """Its absolute URL, percent-encoded."""
    size: int
    brief: str | None
    """The folder brief it is published with (its `rel`), or None in a shared folder."""


def _shown(content: str, rel: str) -> str:
    return rel if content == "." else f"{content}/{rel}"


def plan_assets(files: Mapping[str, int], base_url: str, brief_urls: Mapping[str, str], *,
                content: str = "content", max_bytes: int = MAX_ASSET_BYTES
                ) -> tuple[dict[str, Asset], tuple[Problem, ...]]:
    """The published assets among `files` (path in the content folder -> size), by path in
    the content folder, and the problems found.

    `brief_urls` gives the page URL of each published brief (by path in the content
    folder): a folder brief's files are published under it, and not at all when the brief
    is not published (a draft, one dated in the future, one with errors). `content` is the
    content folder as messages name it.
    """
    folders = {str(PurePosixPath(rel).parent): rel for rel in sorted(files, reverse=True)
               if is_folder_brief(rel)}
    assets: dict[str, Asset] = {}
    problems: list[Problem] = []
    by_path: dict[str, str] = {}
    for rel in sorted(files):
        if not is_asset(rel):
            continue
        if files[rel] > max_bytes:
            problems.append(Problem(_shown(content, rel), None,
                                    f"file is {files[rel]:,} bytes, over the limit of "
                                    f"{max_bytes:,} (setting max_asset_bytes)"))
            continue
        owner = _owner(rel, folders)
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
        assets[rel] = Asset(rel, path, base_url + encode_path(path), files[rel], owner)
    return assets, tuple(problems)


def _owner(rel: str, folders: Mapping[str, str]) -> str | None:
    """The folder brief whose folder holds `rel` (the nearest), or None."""
    folder = posixpath.dirname(rel)
    while folder:
        if folder in folders:
            return folders[folder]
        folder = posixpath.dirname(folder)
    return None


def clashes(assets: Iterable[Asset], outputs: Collection[str],
            content: str = "content") -> tuple[Problem, ...]:
    """An error for each asset published where feeder writes a feed or page (`outputs`:
    their paths in the output folder)."""
    taken = {path.casefold() for path in outputs}
    return tuple(Problem(_shown(content, asset.rel), None,
                         f"published at {asset.path}, where feeder writes a feed or a page; "
                         "rename or move the file") for asset in assets
                 if asset.path.casefold() in taken)


# --- links -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Link:
    """A link or image in a brief's text."""

    target: str
    """As written (HTML character references decoded, `<...>` brackets removed)."""
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
_DEFINITION = re.compile(r"^[ \t]{0,3}\[([^\]\n]+)\]:[ \t]*" + _TARGET, re.MULTILINE)
_REFERENCE_IMAGE = re.compile(r"!\[((?:[^\[\]]|\[[^\[\]]*\])*)\](?:\[([^\]\n]*)\])?(?![(:])")
_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)\b([^<>]*)>")
_ATTRIBUTE = re.compile(r"""\b(src|href|poster|alt)\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)""",
                        re.IGNORECASE)


def _blank(match: re.Match[str]) -> str:
    """The matched text with everything but line ends turned to spaces (keeps positions)."""
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
        definitions.setdefault(match.group(1).strip().casefold(), _unwrap(match.group(2)))
        add(match.start(2), match.group(2), image=False)
    for match in _INLINE.finditer(text):
        add(match.start(3), match.group(3), image=bool(match.group(1)), alt=match.group(2))
    for match in _REFERENCE_IMAGE.finditer(text):
        label = (match.group(2) or match.group(1)).strip().casefold()
        if label in definitions:  # where the image is, for the lead image (not checked again)
            found.append((match.start(), Link(definitions[label], bisect_right(starts,
                                                                               match.start()),
                                              True, match.group(1))))
    for tag in _TAG.finditer(text):
        attributes = {m.group(1).lower(): m for m in _ATTRIBUTE.finditer(tag.group(2))}
        alt = attributes.pop("alt", None)
        for name, match in attributes.items():
            value = match.group(2).strip("\"'")
            is_image = tag.group(1).lower() == "img" and name == "src"
            add(tag.start(2) + match.start(2), value, image=is_image,
                alt=html.unescape(alt.group(2).strip("\"'")) if alt and is_image else "")
    return tuple(link for _at, link in sorted(found, key=lambda item: item[0]))


def resolve(brief_rel: str, target: str) -> str | None:
    """The file in the content folder that a link of the brief `brief_rel` names (`..` first
    when it leaves the folder), or None for a link that names no file there: one with a
    scheme (`https:`, `mailto:`), to another host (`//`), from the site's root (`/`), or to
    a place in the page itself (`#`)."""
    parts = urlsplit(target.strip())
    if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
        return None
    return posixpath.normpath(posixpath.join(posixpath.dirname(brief_rel),
                                             unquote(parts.path)))


def leaves_content(rel: str) -> bool:
    return rel == ".." or rel.startswith("../")


def link_url(brief_rel: str, target: str, assets: Mapping[str, Asset]) -> str | None:
    """The published URL of a link in the brief `brief_rel` when it names an asset (with the
    link's query and fragment: `report.pdf#page=3`), else None."""
    rel = resolve(brief_rel, target)
    asset = None if rel is None else assets.get(rel)
    if asset is None:
        return None
    parts = urlsplit(target.strip())
    return asset.url + (f"?{parts.query}" if parts.query else "") \
        + (f"#{parts.fragment}" if parts.fragment else "")


def check_links(path: str, brief_rel: str, links: Iterable[Link], files: Collection[str],
                assets: Mapping[str, Asset]) -> tuple[Problem, ...]:
    """The problems of a brief's relative links (`path`: the brief as messages name it;
    `files`: every file in the content folder). One that leaves the content folder is an
    error; one that names no published file is a warning."""
    problems: list[Problem] = []
    for link in links:
        rel = resolve(brief_rel, link.target)
        if rel is None or rel in assets:
            continue
        what = f"{'image' if link.image else 'link'} {link.target!r}"
        if leaves_content(rel):
            problems.append(Problem(path, link.line, f"{what} leaves the content folder; only "
                                                     "files inside it are published"))
            continue
        if is_hidden(rel):
            reason = "names a hidden file, which is never published"
        elif rel in files and is_brief_file(rel):
            reason = "names a brief's text, which is not published: link to the brief's page"
        elif rel in files:
            reason = "names a file that is not published (its brief is not)"
        else:
            folder = posixpath.dirname(rel)
            hint = did_you_mean(rel, [name for name in files
                                      if posixpath.dirname(name) == folder])
            reason = f"names no file: {rel} is not in the content folder{hint}"
        problems.append(Problem(path, link.line, f"{what} {reason}", "warning"))
    return tuple(problems)


# --- the lead image ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LeadImage:
    """A brief's lead image, as feeds and pages announce it."""

    url: str
    alt: str
    media_type: str | None
    size: int | None
    """In bytes, when the file is published here."""
    width: int | None
    height: int | None


def lead_image(path: str, brief_rel: str, image: tuple[Any, int] | None,
               image_alt: tuple[Any, int] | None, links: Iterable[Link],
               assets: Mapping[str, Asset], infos: Mapping[str, ImageInfo | None]
               ) -> tuple[LeadImage | None, tuple[Problem, ...]]:
    """The lead image of a brief and the problems of its front matter `image` and
    `image_alt` (each a value and its line, or None when absent).

    `image:` names it (a path relative to the brief, or an http(s) URL), `image: none`
    turns it off; without `image:` it is the brief's first image. `infos` holds the header
    of the published pictures (see images.image_info), by path in the content folder.
    """
    images = [link for link in links if link.image]
    alt = image_alt[0] if image_alt else None
    if image_alt is not None and not isinstance(alt, str):
        return None, (Problem(path, image_alt[1], "image_alt must be text"),)
    if image is None or image[0] is None:  # the first image in the text, if any
        if not images:
            return None, ()
        chosen = Link(images[0].target.strip(), images[0].line, True, alt or images[0].alt)
        # (what is wrong with an image in the text, check_links tells)
        return _lead(chosen, brief_rel, assets, infos)[0], ()
    value, line = image
    if value is False or (isinstance(value, str) and value.strip().lower() == NONE):
        return None, ()
    if not isinstance(value, str):
        return None, (Problem(path, line, "image must be a path or an https: URL, or none"),)
    value = value.strip()
    if alt is None:
        named = resolve(brief_rel, value) or value
        alt = next((link.alt for link in images
                    if (resolve(brief_rel, link.target) or link.target.strip()) == named), "")
    lead, problem = _lead(Link(value, line, True, alt), brief_rel, assets, infos)
    if problem is None:
        return lead, ()
    return None, (Problem(path, line, f"image {value!r} {problem[0]}", problem[1]),)


def _lead(link: Link, brief_rel: str, assets: Mapping[str, Asset],
          infos: Mapping[str, ImageInfo | None]
          ) -> tuple[LeadImage | None, tuple[str, Severity] | None]:
    """The lead image `link` names, or what is wrong with it."""
    parts = urlsplit(link.target)
    if parts.scheme or parts.netloc:
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            return None, ("must be a path relative to the brief or an http: or https: URL",
                          "error")
        return LeadImage(link.target, link.alt, media_type(parts.path), None, None, None), None
    rel = resolve(brief_rel, link.target)
    asset = None if rel is None else assets.get(rel)
    if rel is None or asset is None:
        if rel is not None and leaves_content(rel):
            return None, ("leaves the content folder; only files inside it are published",
                          "error")
        return None, ("names no published file in the content folder; the brief has no "
                      "lead image", "warning")
    info = infos.get(rel)
    kind = info.media_type if info else media_type(rel)
    if kind is None or not kind.startswith("image/"):
        return None, ("is not a picture (PNG, JPEG, GIF, WebP, SVG or AVIF)", "warning")
    return LeadImage(asset.url, link.alt, kind, asset.size, info.width if info else None,
                     info.height if info else None), None

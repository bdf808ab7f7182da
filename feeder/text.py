"""Text that is safe to put in XML, slugs safe in URLs and file names, and names compared."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

# What XML 1.0 forbids (lxml refuses a document holding one): C0 controls but TAB, LF and CR,
# lone surrogates, U+FFFE and U+FFFF.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ASCII_OTHERS = re.compile("[^0-9a-z]+")
_APOSTROPHES = str.maketrans(dict.fromkeys("\u2018\u2019\u02bc\u2032\u00b4`", "'"))
MAX_SLUG_LENGTH = 80
MAX_SLUG_BYTES = 255  # a slug names a folder: no file system takes a longer name


@dataclass(frozen=True, slots=True)
class Source:
    """The text of one brief file: UTF-8 decoded, BOM removed, line endings made `\\n`."""

    path: str
    rel: str
    text: str


def strip_xml_forbidden(text: str) -> str:
    return _XML_FORBIDDEN.sub("", text)


def find_xml_forbidden(text: str) -> int | None:
    """The index of the first character XML 1.0 forbids, or None."""
    match = _XML_FORBIDDEN.search(text)
    return match.start() if match else None


def strip_xml_forbidden_in(value: object) -> object:
    """A YAML value without the characters XML forbids, in every string it holds."""
    if isinstance(value, str):
        return strip_xml_forbidden(value)
    if isinstance(value, list):
        return [strip_xml_forbidden_in(item) for item in value]
    if isinstance(value, dict):
        return {strip_xml_forbidden_in(k): strip_xml_forbidden_in(v) for k, v in value.items()}
    return value


def slugify(text: str) -> str:
    """A lowercase slug of `text`, safe as one URL segment and one file name, "" when `text`
    has no letter or digit. Idempotent. Letters, marks (so Devanagari or Thai words stay
    whole) and digits of every script are kept; all else becomes `-`, so a slug never holds
    `/`, `\\`, `.`, NUL or white space."""
    text = fold(text)
    if text.isascii():  # the letters and digits of ASCII are [0-9a-z] once folded
        slug = _ASCII_OTHERS.sub("-", text).strip("-")
    else:
        kept = "".join(c if unicodedata.category(c)[0] in "LMN" else "-" for c in text)
        slug = re.sub("-{2,}", "-", kept).strip("-")
    slug = slug[:MAX_SLUG_LENGTH].rstrip("-")
    while len(slug.encode()) > MAX_SLUG_BYTES:  # 80 characters of some scripts are 320 bytes
        slug = slug[:-1].rstrip("-")
    return slug


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """"; did you mean 'x'?" naming the choice nearest `word`, or ""."""
    import difflib  # only then: a build imports as little as it can

    near = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {near[0]!r}?" if near else ""


def fold(name: str) -> str:
    """The key under which names that differ only in case or Unicode form are one name.
    Normalised again after case folding, which can decompose (`ß́`): so it is idempotent."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


@lru_cache(maxsize=4096)  # the same labels recur in every brief
def fold_label(text: str) -> str:
    """The key under which a label's spellings are one: Unicode form (NFKC), every kind of
    space as one space and the invisible ones dropped, typographic apostrophes as `'`, case
    and surrounding spaces ignored."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    return " ".join(text.casefold().split())


def plural(count: int, noun: str) -> str:
    """`1 brief`, `2 briefs`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"

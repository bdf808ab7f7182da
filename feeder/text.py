"""Text that is safe to put in XML, and slugs that are safe to put in URLs and file names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

# What XML 1.0 forbids (lxml refuses a document holding one): C0 controls but TAB, LF and CR,
# lone surrogates, U+FFFE and U+FFFF.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def strip_xml_forbidden(text: str) -> str:
    """`text` without the characters that XML 1.0 forbids."""
    return _XML_FORBIDDEN.sub("", text)


def find_xml_forbidden(text: str) -> int | None:
    """The index of the first character XML 1.0 forbids, or None."""
    match = _XML_FORBIDDEN.search(text)
    return match.start() if match else None


MAX_SLUG_LENGTH = 80
MAX_SLUG_BYTES = 255
"""A slug names a folder of the output: no file system takes a longer name (80 characters
of some scripts are 320 bytes of UTF-8)."""


def _slug_char(char: str) -> str:
    # Letters, marks (so Devanagari or Thai words stay whole) and digits; nothing else.
    return char if unicodedata.category(char)[0] in "LMN" else "-"


_ASCII_OTHERS = re.compile("[^0-9a-z]+")


def slugify(text: str) -> str:
    """A lowercase slug of `text` that is safe as one URL segment and one file name.

    Letters and digits of every script are kept (`Ελλάδα` stays readable), everything
    else becomes `-`; so a slug never holds `/`, `\\`, `.`, NUL or white space, and is never
    `.` or `..`. Returns "" when `text` has no letter or digit. Idempotent.
    """
    text = fold(text)
    if text.isascii():  # the letters and digits of ASCII are [0-9a-z] once folded
        slug = _ASCII_OTHERS.sub("-", text).strip("-")
    else:
        slug = re.sub("-{2,}", "-", "".join(map(_slug_char, text))).strip("-")
    if len(slug) > MAX_SLUG_LENGTH:
        slug = slug[:MAX_SLUG_LENGTH].rstrip("-")
    while not slug.isascii() and len(slug.encode()) > MAX_SLUG_BYTES:
        slug = slug[:-1].rstrip("-")
    return slug


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """"; did you mean 'x'?" naming the choice nearest `word`, or "" (difflib, imported only
    then: a build imports as little as it can)."""
    import difflib

    near = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {near[0]!r}?" if near else ""


def fold(name: str) -> str:
    """The key under which names that differ only in case or Unicode form are one name.

    Normalised again after case folding, which can decompose (`ß́` folds to `ss` and a
    combining accent): so `fold` is idempotent, and so is `slugify`.
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


_APOSTROPHES = str.maketrans(dict.fromkeys("\u2018\u2019\u02bc\u2032\u00b4`", "'"))


@lru_cache(maxsize=4096)  # a memo: the same labels recur in every brief
def fold_label(text: str) -> str:
    """The key under which a label's spellings are one label: Unicode form (NFKC), every
    kind of space (and the invisible ones) as one space, typographic apostrophes as `'`,
    letter case and surrounding spaces all ignored."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
        text = "".join(" " if unicodedata.category(char) == "Zs" else char for char in text
                       if unicodedata.category(char) != "Cf")
    elif "`" in text:
        text = text.translate(_APOSTROPHES)
    return " ".join(text.casefold().split())


def strip_xml_forbidden_in(value: object) -> object:
    """A YAML value without the characters XML forbids, in every string it holds."""
    if isinstance(value, str):
        return strip_xml_forbidden(value)
    if isinstance(value, list):
        return [strip_xml_forbidden_in(item) for item in value]
    if isinstance(value, dict):
        return {strip_xml_forbidden_in(k): strip_xml_forbidden_in(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, slots=True)
class Source:
    """The text of one brief file: UTF-8 decoded, BOM removed, line endings made `\\n`."""

    path: str
    rel: str
    text: str

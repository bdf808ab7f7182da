"""Text helpers: removing what XML forbids, slugs that are safe as one path segment, folding.

Properties over arbitrary text (idempotence, no separators) are in tests/test_properties.py.
"""

from __future__ import annotations

import pytest

from feeder.text import MAX_SLUG_LENGTH, find_xml_forbidden, fold, slugify, strip_xml_forbidden


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain text", "plain text"),
        ("tab\tnewline\ncarriage\r kept", "tab\tnewline\ncarriage\r kept"),
        ("nul\x00 bell\x07 escape\x1b vt\x0b ff\x0c", "nul bell escape vt ff"),
        ("del \x7f and C1 \x85\x9f stay", "del \x7f and C1 \x85\x9f stay"),
        ("lone surrogate \ud800 and \udfff", "lone surrogate  and "),
        ("non-characters \ufffe \uffff", "non-characters  "),
        ("astral \U0001f600 and private \ue000 stay", "astral \U0001f600 and private \ue000 stay"),
        ("", ""),
    ],
    ids=["plain", "whitespace", "c0", "del-c1", "surrogates", "fffe-ffff", "astral", "empty"],
)
def test_strip_xml_forbidden(text: str, expected: str) -> None:
    assert strip_xml_forbidden(text) == expected
    assert find_xml_forbidden(expected) is None
    assert (find_xml_forbidden(text) is None) == (text == expected)


def test_find_xml_forbidden_gives_the_first_index() -> None:
    assert find_xml_forbidden("ab\x01c\x02") == 2


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Middle East", "middle-east"),
        ("russia", "russia"),
        ("US", "us"),
        ("Ελλάδα", "ελλάδα"),
        ("日本", "日本"),
        ("हिन्दी", "हिन्दी"),  # combining vowel signs stay with their letters
        ("Straße", "strasse"),
        ("Ｆｕｌｌ　ｗｉｄｔｈ", "full-width"),
        ("R&D", "r-d"),
        ("  --Leading and trailing--  ", "leading-and-trailing"),
        ("../../etc/passwd", "etc-passwd"),
        ("/abs", "abs"),
        ("C:\\Windows\\system32", "c-windows-system32"),
        ("nul\x00byte", "nul-byte"),
        ("dots...in.name", "dots-in-name"),
        ("%2e%2e%2f", "2e-2e-2f"),
        ("tab\there", "tab-here"),
        ("emoji \U0001f600 here", "emoji-here"),
        ("a" * 200, "a" * MAX_SLUG_LENGTH),
        ("a" * 79 + " b", "a" * 79),  # cut at the limit, no trailing dash
    ],
    ids=["words", "lower", "upper", "greek", "cjk", "devanagari", "sharp-s", "fullwidth",
         "ampersand", "edges", "traversal", "absolute", "backslashes", "nul", "dots",
         "percent", "tab", "emoji", "long", "cut"],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug
    assert slugify(slug) == slug


@pytest.mark.parametrize("text", ["", "   ", "...", "../..", "/", "\\", "\x00", "!!!",
                                  "\U0001f600"])
def test_slugify_is_empty_without_a_letter_or_digit(text: str) -> None:
    assert slugify(text) == ""


def test_case_folding_decomposes_so_both_are_normalised_again() -> None:
    # "ß" + combining acute folds to "ss" + acute: normalising only before folding gave a
    # slug that changed when slugified again, and two keys for one tag.
    assert slugify("Saß\u0301") == slugify(slugify("Saß\u0301")) == "sas\u015b"
    assert fold("ß\u0301") == fold("ss\u0301") == fold(fold("ß\u0301"))
    assert fold("US") == fold("us") == fold("Ｕｓ")


def test_xml_forbidden_is_exactly_what_xml_1_0_does_not_allow() -> None:
    """Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
    (XML 1.0, section 2.2), checked on every code point."""
    def allowed(code: int) -> bool:
        return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or \
            0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF

    text = "".join(map(chr, range(0x110000)))
    assert strip_xml_forbidden(text) == "".join(chr(c) for c in range(0x110000) if allowed(c))


def test_ascii_slugs_keep_exactly_the_letters_and_digits_of_any_script() -> None:
    """slugify takes a shortcut for ASCII text: on every ASCII character, alone and in
    runs, it must keep what the Unicode rule keeps (categories L, M and N)."""
    import re
    import unicodedata

    def by_category(text: str) -> str:
        kept = "".join(c if unicodedata.category(c)[0] in "LMN" else "-" for c in fold(text))
        slug = re.sub("-{2,}", "-", kept).strip("-")
        return slug[:MAX_SLUG_LENGTH].rstrip("-")

    ascii_chars = "".join(map(chr, range(128)))
    for text in (ascii_chars, *ascii_chars, ascii_chars[::-1], "A--b..C  9", "x" * 90 + "-y"):
        assert slugify(text) == by_category(text), repr(text)

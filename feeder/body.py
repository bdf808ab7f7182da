"""A brief's HTML as the outputs embed it: in memory, or read from the build cache on demand.

A site of 100,000 briefs holds hundreds of megabytes of HTML, and a rebuild after one edit
renders only a few feeds and pages. So an entry carries a *body*: either the `Rendered` HTML
itself, or a `StoredBody` that knows the key of the HTML in the build cache, its digest and
its sizes (what planning needs), and reads the text only when an output is made from it.
This module is light on purpose: a build with nothing to do imports it without Markdown.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

_XML_TEXT = {"&": 4, "<": 3, ">": 3, "\r": 4}
"""What lxml adds for each character it escapes in text (`&` -> `&amp;`, `\r` -> `&#13;`)."""
_XML_ATTRIBUTE = {**_XML_TEXT, '"': 5, "\n": 4, "\t": 3}
"""The same in an attribute value."""
_JSON = {'"': 1, "\\": 1, "\n": 1, "\r": 1, "\t": 1}
"""What json.dumps(ensure_ascii=False) adds (other control characters never reach a feed)."""
_WEIGHTS = tuple((char, _XML_TEXT.get(char, 0), _XML_ATTRIBUTE.get(char, 0), _JSON.get(char, 0))
                 for char in sorted(_XML_ATTRIBUTE.keys() | _JSON.keys()))
"""Each character some format escapes, with the bytes each format adds for it."""

Sizes = tuple[int, int]
"""At least the bytes a body's texts take in a feed once escaped (see `text_sizes`): in Atom
and RSS (the content and summary HTML, in XML text) and in JSON Feed (the content HTML and
the summary as plain text)."""


def text_sizes(text: str) -> tuple[int, int, int]:
    """At least the bytes `text` takes in UTF-8 once escaped: in XML text, in an XML attribute
    value and in JSON."""
    size = len(text) if text.isascii() else len(text.encode())
    xml = attribute = json = size
    for char, in_text, in_attribute, in_json in _WEIGHTS:  # (3 per brief: keep it plain)
        count = text.count(char)
        if count:
            xml += in_text * count
            attribute += in_attribute * count
            json += in_json * count
    return xml, attribute, json


@dataclass(frozen=True, slots=True)
class Rendered:
    """A brief's HTML, ready to embed."""

    summary_html: str
    summary_text: str
    content_html: str

    @property
    def digest(self) -> bytes:
        """SHA-256 of the three texts (each with its length)."""
        texts = (self.summary_html, self.summary_text, self.content_html)
        head = repr([len(text) for text in texts])
        return hashlib.sha256("\0".join([head, *texts]).encode("utf-8", "surrogatepass")).digest()

    @property
    def sizes(self) -> Sizes:
        content = text_sizes(self.content_html)
        return (content[0] + text_sizes(self.summary_html)[0],
                content[2] + text_sizes(self.summary_text)[2])


_STORES: dict[str, Callable[[StoredBody], Rendered]] = {}
"""How each store of this process reads a body, by name (see `register_store`)."""


def register_store(name: str, load: Callable[[StoredBody], Rendered]) -> None:
    """Make `load` read the bodies of the store `name` (a body names its store rather than
    holding it, so that it stays small when it goes to or comes from a worker process)."""
    _STORES[name] = load


class StoredBody:
    """HTML kept in a store (the build cache's, see cache.BodyStore) under its key: read
    each time an output asks for it (the store keeps a few recent ones), so that a build
    holds in memory only the HTML of what it is making."""

    __slots__ = ("digest", "sizes", "store", "where")

    def __init__(self, key: bytes, sizes: Sizes, store: str, where: bytes | None = None) -> None:
        self.digest = key
        """The key of the HTML: the digest of everything it is rendered from."""
        self.sizes = sizes
        self.store = store
        self.where = where
        """Where in the store it is, when the key alone does not say (see cache.BodyStore)."""

    def __repr__(self) -> str:
        return f"StoredBody({self.digest.hex()})"

    def __getstate__(self) -> tuple[bytes, Sizes, str, bytes | None]:
        return self.digest, self.sizes, self.store, self.where

    def __setstate__(self, state: tuple[bytes, Sizes, str, bytes | None]) -> None:
        self.digest, self.sizes, self.store, self.where = state

    @property
    def rendered(self) -> Rendered:
        return _STORES[self.store](self)

    @property
    def summary_html(self) -> str:
        return self.rendered.summary_html

    @property
    def summary_text(self) -> str:
        return self.rendered.summary_text

    @property
    def content_html(self) -> str:
        return self.rendered.content_html


Body = Rendered | StoredBody

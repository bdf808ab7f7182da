"""The media type, width and height of a picture, read from its first bytes.

Pages give pictures `width` and `height`, and feeds state a lead image's size. The
dimensions are in the header of PNG, GIF and WebP, and of JPEG after a chain of segments, so
this module reads them itself, through `read(offset, count)`, rather than with Pillow: no
compiled decoders, nothing decoded (a hostile picture costs nothing), a few reads per file.
SVG, AVIF and other formats get their media type from the file name and no dimensions.

A JPEG whose EXIF orientation turns it a quarter (5 to 8) is shown by browsers with width
and height swapped: the dimensions given are those shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

Read = Callable[[int, int], bytes]
"""`read(offset, count)`: up to `count` bytes of a file from `offset` (fewer at its end)."""

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7,
                      0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
"""The start-of-frame markers (baseline, extended, progressive, lossless, each with Huffman
or arithmetic coding, differential or not); 0xC4 (DHT), 0xC8 and 0xCC (DAC) are not."""
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
"""Markers without a length: TEM and the restart markers."""
MAX_JPEG_SEGMENTS = 1000
"""Segments read before the frame header: a real file has a few dozen."""

MEDIA_TYPES: dict[str, str] = {
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
    ".webp": "image/webp", ".svg": "image/svg+xml", ".avif": "image/avif",
    ".pdf": "application/pdf", ".mp3": "audio/mpeg", ".m4a": "audio/mp4",
    ".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg", ".wav": "audio/wav",
    ".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm",
    ".csv": "text/csv", ".json": "application/json", ".zip": "application/zip",
}
"""Media types by file name suffix, for the kinds of files briefs link (a fixed table, not
the `mimetypes` module, whose answers depend on the machine's files)."""


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What a picture's header says."""

    media_type: str
    width: int
    height: int


def media_type(name: str) -> str | None:
    """The media type of a file by its name's suffix (any case), or None if unknown."""
    return MEDIA_TYPES.get(PurePosixPath(name).suffix.lower())


def image_info(read: Read) -> ImageInfo | None:
    """The media type and dimensions of a PNG, JPEG, GIF or WebP picture read with `read`;
    None for any other file, or one whose header is damaged or gives no size."""
    head = read(0, 30)
    if head.startswith(PNG_SIGNATURE):
        return _png(head)
    if head.startswith(b"\xff\xd8"):
        return _jpeg(read)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _sized("image/gif", _le(head, 6, 2), _le(head, 8, 2))
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp(head)
    return None


def image_info_of(data: bytes) -> ImageInfo | None:
    """`image_info` of a picture held in memory."""
    return image_info(lambda offset, count: data[offset:offset + count])


def _sized(kind: str, width: int | None, height: int | None) -> ImageInfo | None:
    return ImageInfo(kind, width, height) if width and height else None


def _le(data: bytes, at: int, size: int) -> int | None:
    """The little-endian number of `size` bytes at `at`, or None past the end of `data`."""
    part = data[at:at + size]
    return int.from_bytes(part, "little") if len(part) == size else None


def _be(data: bytes, at: int, size: int) -> int | None:
    part = data[at:at + size]
    return int.from_bytes(part, "big") if len(part) == size else None


def _png(head: bytes) -> ImageInfo | None:
    # The first chunk is IHDR: length, type, then width and height (4 bytes each).
    if head[12:16] != b"IHDR":
        return None
    return _sized("image/png", _be(head, 16, 4), _be(head, 20, 4))


def _webp(head: bytes) -> ImageInfo | None:
    chunk, data = head[12:16], head[20:30]
    if chunk == b"VP8 ":  # lossy: a key frame's tag, start code, 14-bit width and height
        if len(data) < 10 or data[0] & 1 or data[3:6] != b"\x9d\x01\x2a":
            return None
        width, height = _le(data, 6, 2) or 0, _le(data, 8, 2) or 0
        return _sized("image/webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L":  # lossless: signature 0x2f, then width-1 and height-1 in 14 bits
        bits = _le(data, 1, 4)
        if data[:1] != b"\x2f" or bits is None:
            return None
        return _sized("image/webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":  # extended: flags, then the canvas's width-1 and height-1 (24 bits)
        wide, high = _le(data, 4, 3), _le(data, 7, 3)
        if wide is None or high is None:
            return None
        return _sized("image/webp", wide + 1, high + 1)
    return None


def _jpeg(read: Read) -> ImageInfo | None:
    """Walk the segments after SOI to the first frame header (SOFn), skipping each by its
    length; an EXIF segment on the way gives the orientation."""
    at, orientation = 2, 1
    for _ in range(MAX_JPEG_SEGMENTS):
        head = read(at, 16)
        fill = len(head) - len(head.lstrip(b"\xff"))  # a marker, after any fill bytes
        if fill == 0:
            return None
        if fill == len(head):
            at += fill
            continue
        marker = head[fill]
        at += fill + 1
        if marker in _JPEG_STANDALONE:
            continue
        length = _be(head, fill + 1, 2)
        if marker in (0xD9, 0xDA) or length is None or length < 2:
            return None  # the image ends or its data starts with no frame header before
        if marker in JPEG_SOF:
            height, width = _be(head, fill + 4, 2), _be(head, fill + 6, 2)
            if orientation >= 5:
                width, height = height, width
            return _sized("image/jpeg", width, height)
        if marker == 0xE1:  # APP1: maybe EXIF
            orientation = _exif_orientation(read(at + 2, length - 2)) or orientation
        at += length
    return None


def _exif_orientation(segment: bytes) -> int | None:
    """The orientation (1 to 8) in an APP1 segment's EXIF data, or None."""
    if not segment.startswith(b"Exif\x00\x00"):
        return None
    tiff = segment[6:]
    if tiff[:2] not in (b"II", b"MM"):
        return None
    number = _le if tiff[:2] == b"II" else _be

    first = number(tiff, 4, 4)
    count = None if first is None else number(tiff, first, 2)
    if first is None or count is None or number(tiff, 2, 2) != 42:
        return None
    for index in range(count):
        entry = first + 2 + 12 * index
        if number(tiff, entry, 2) == 0x0112 and number(tiff, entry + 2, 2) == 3:  # Orientation
            value = number(tiff, entry + 8, 2)
            return value if value is not None and 1 <= value <= 8 else None
    return None

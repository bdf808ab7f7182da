"""The media type, width and height of a picture, read from its first bytes.

PNG, GIF, WebP and JPEG (after a chain of segments) give their size in a header, read here
through `read(offset, count)` rather than decoded with Pillow: a hostile picture costs a few
reads. Other formats (SVG, AVIF...) get a media type from their name and no size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

Read = Callable[[int, int], bytes]
"""`read(offset, count)`: up to `count` bytes of a file from `offset` (fewer at its end)."""

JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7,
                      0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
"""The start-of-frame markers (not 0xC4, DHT, nor 0xC8 and 0xCC, DAC)."""
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
"""By file name suffix (a fixed table: `mimetypes` depends on the machine's files)."""


@dataclass(frozen=True, slots=True)
class ImageInfo:
    media_type: str
    width: int
    height: int


def media_type(name: str) -> str | None:
    """The media type of a file by its name's suffix (any case), or None if unknown."""
    return MEDIA_TYPES.get(PurePosixPath(name).suffix.lower())


def image_info(read: Read) -> ImageInfo | None:
    """The media type and size of a PNG, JPEG, GIF or WebP picture; None for any other
    file, or one whose header is damaged or gives no size."""
    head = read(0, 30)
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        return _sized("image/png", _int(head, 16, 4), _int(head, 20, 4))
    if head.startswith(b"\xff\xd8"):
        return _jpeg(read)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _sized("image/gif", _int(head, 6, 2, "little"), _int(head, 8, 2, "little"))
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp(head[12:16], head[20:30])
    return None


def image_info_of(data: bytes) -> ImageInfo | None:
    """`image_info` of a picture held in memory."""
    return image_info(lambda offset, count: data[offset:offset + count])


def _sized(kind: str, width: int | None, height: int | None) -> ImageInfo | None:
    return ImageInfo(kind, width, height) if width and height else None


def _int(data: bytes, at: int, size: int, order: Literal["little", "big"] = "big"
         ) -> int | None:
    """The number of `size` bytes at `at`, or None past the end of `data`."""
    part = data[at:at + size]
    return int.from_bytes(part, order) if len(part) == size else None


def _webp(chunk: bytes, data: bytes) -> ImageInfo | None:
    width = height = None
    if chunk == b"VP8 ":  # lossy: a key frame's tag, start code, 14-bit width and height
        if len(data) == 10 and not data[0] & 1 and data[3:6] == b"\x9d\x01\x2a":
            width = (_int(data, 6, 2, "little") or 0) & 0x3FFF
            height = (_int(data, 8, 2, "little") or 0) & 0x3FFF
    elif chunk == b"VP8L":  # lossless: signature 0x2f, then width-1 and height-1 in 14 bits
        bits = _int(data, 1, 4, "little")
        if data[:1] == b"\x2f" and bits is not None:
            width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif chunk == b"VP8X":  # extended: flags, then the canvas's width-1 and height-1 (24 bits)
        wide, high = _int(data, 4, 3, "little"), _int(data, 7, 3, "little")
        if wide is not None and high is not None:
            width, height = wide + 1, high + 1
    return _sized("image/webp", width, height)


def _jpeg(read: Read) -> ImageInfo | None:
    """Walk the segments after SOI to the first frame header (SOFn), skipping each by its
    length; an EXIF segment on the way gives the orientation: one that turns the picture a
    quarter (5 to 8) swaps the width and height browsers show."""
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
        length = _int(head, fill + 1, 2)
        if marker in (0xD9, 0xDA) or length is None or length < 2:
            return None  # the image ends or its data starts with no frame header before
        if marker in JPEG_SOF:
            height, width = _int(head, fill + 4, 2), _int(head, fill + 6, 2)
            if orientation >= 5:
                width, height = height, width
            return _sized("image/jpeg", width, height)
        if marker == 0xE1:  # APP1: maybe EXIF
            orientation = _exif_orientation(read(at + 2, length - 2)) or orientation
        at += length
    return None


def _exif_orientation(segment: bytes) -> int | None:
    """The orientation (1 to 8) in an APP1 segment's EXIF data, or None."""
    tiff = segment[6:]
    if not segment.startswith(b"Exif\x00\x00") or tiff[:2] not in (b"II", b"MM"):
        return None
    order: Literal["little", "big"] = "little" if tiff[:2] == b"II" else "big"
    first = _int(tiff, 4, 4, order)
    count = None if first is None else _int(tiff, first, 2, order)
    if first is None or count is None or _int(tiff, 2, 2, order) != 42:
        return None
    for entry in range(first + 2, first + 2 + 12 * count, 12):
        if _int(tiff, entry, 2, order) == 0x0112 and _int(tiff, entry + 2, 2, order) == 3:
            value = _int(tiff, entry + 8, 2, order)  # Orientation, a SHORT
            return value if value is not None and 1 <= value <= 8 else None
    return None

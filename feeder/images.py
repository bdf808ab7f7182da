"""The media type, width and height of a picture, read from its header (PNG, GIF, WebP, and
JPEG after a chain of segments) through `read(offset, count)`, not decoded: a hostile picture
costs a few reads. Other formats (SVG, AVIF...) get a media type from their name and no size."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

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
    try:
        if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
            return _sized("image/png", *struct.unpack_from(">II", head, 16))
        if head.startswith(b"\xff\xd8"):
            return _jpeg(read)
        if head[:6] in (b"GIF87a", b"GIF89a"):
            return _sized("image/gif", *struct.unpack_from("<HH", head, 6))
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return _webp(head[12:16], head[20:30])
    except struct.error:  # the file ends inside the header
        return None
    return None


def image_info_of(data: bytes) -> ImageInfo | None:
    """`image_info` of a picture held in memory."""
    return image_info(lambda offset, count: data[offset:offset + count])


def _sized(kind: str, width: int, height: int) -> ImageInfo | None:
    return ImageInfo(kind, width, height) if width and height else None


def _webp(chunk: bytes, data: bytes) -> ImageInfo | None:
    if chunk == b"VP8 ":  # lossy: a key frame's tag, start code, 14-bit width and height
        if len(data) == 10 and not data[0] & 1 and data[3:6] == b"\x9d\x01\x2a":
            width, height = struct.unpack_from("<HH", data, 6)
            return _sized("image/webp", width & 0x3FFF, height & 0x3FFF)
    elif chunk == b"VP8L":  # lossless: signature 0x2f, then width-1 and height-1 in 14 bits
        (bits,) = struct.unpack_from("<I", data, 1)
        if data[:1] == b"\x2f":
            return _sized("image/webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    elif chunk == b"VP8X" and len(data) == 10:  # extended: flags, then width-1 and height-1
        return _sized("image/webp", int.from_bytes(data[4:7], "little") + 1,
                      int.from_bytes(data[7:10], "little") + 1)
    return None


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
        (length,) = struct.unpack_from(">H", head, fill + 1)
        if marker in (0xD9, 0xDA) or length < 2:
            return None  # the image ends or its data starts with no frame header before
        if marker in JPEG_SOF:
            height, width = struct.unpack_from(">HH", head, fill + 4)
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
    order = "<" if tiff[:2] == b"II" else ">"
    try:
        magic, first = struct.unpack_from(order + "HI", tiff, 2)
        (count,) = struct.unpack_from(order + "H", tiff, first)
        if magic != 42:
            return None
        for entry in range(first + 2, first + 2 + 12 * count, 12):
            tag, kind, _, value = struct.unpack_from(order + "HHIH", tiff, entry)
            if tag == 0x0112 and kind == 3:  # Orientation, a SHORT
                return value if 1 <= value <= 8 else None
    except struct.error:  # the EXIF data ends early
        return None
    return None

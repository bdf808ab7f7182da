"""Reading a picture's media type and size from its header (feeder/images.py).

The pictures are made by real encoders (Pillow's libpng, libjpeg, libwebp and GIF writer)
so that the reader is checked against what tools write, not against its own reading of the
specifications; frame headers that Pillow cannot encode (extended, lossless, arithmetic) are
made from a real JPEG by changing its marker, which is all a header reader sees of them.
"""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps

from feeder.images import JPEG_SOF, ImageInfo, image_info, image_info_of, media_type


def encode(image: Image.Image, kind: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def picture(width: int, height: int, mode: str = "RGB") -> Image.Image:
    image = Image.new(mode, (width, height))
    if mode in ("RGB", "RGBA"):
        image.paste((200, 30, 30) if mode == "RGB" else (200, 30, 30, 128),
                    (0, 0, max(1, width // 2), max(1, height // 2)))
    return image


@pytest.mark.parametrize(("mode", "options"), [
    ("RGB", {}), ("RGBA", {}), ("L", {}), ("1", {}), ("P", {}), ("I;16", {}),
    ("RGB", {"optimize": True}),
])
def test_png(mode: str, options: dict[str, object]) -> None:
    data = encode(picture(333, 77, mode), "PNG", **options)
    assert image_info_of(data) == ImageInfo("image/png", 333, 77)


@pytest.mark.parametrize(("mode", "options"), [
    ("RGB", {}),
    ("RGB", {"progressive": True}),  # SOF2
    ("RGB", {"optimize": True}),
    ("L", {}),
    ("CMYK", {}),
    ("RGB", {"quality": 95, "subsampling": 0}),
    ("RGB", {"icc_profile": b"\0" * 200_000}),  # several APP2 segments before the frame
])
def test_jpeg(mode: str, options: dict[str, object]) -> None:
    data = encode(picture(640, 427, mode), "JPEG", **options)
    assert image_info_of(data) == ImageInfo("image/jpeg", 640, 427)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_jpeg_size_is_the_size_shown_after_the_exif_orientation(orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(picture(640, 427), "JPEG", exif=exif.tobytes())
    shown = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    assert shown is not None
    info = image_info_of(data)
    assert info is not None
    assert (info.width, info.height) == shown.size
    assert shown.size == ((427, 640) if orientation >= 5 else (640, 427))


def test_jpeg_with_a_big_big_endian_exif_and_a_thumbnail() -> None:
    exif = Image.Exif()
    exif[0x010F] = "Camera maker " * 2000  # a long text in the first IFD, before orientation
    exif[0x0112] = 6
    data = encode(picture(300, 200), "JPEG", exif=exif.tobytes())
    assert image_info_of(data) == ImageInfo("image/jpeg", 200, 300)
    motorola = bytearray(data)
    # The same picture with a Motorola-order (big-endian) EXIF block, as many cameras write.
    at = data.index(b"Exif\0\0") + 6
    payload = (b"MM\x00\x2a\x00\x00\x00\x08\x00\x01" + struct.pack(">HHIHH", 0x0112, 3, 1, 8, 0)
               + b"\0\0\0\0")
    length = 2 + 6 + len(payload)
    start = at - 6 - 4
    motorola[start:start + 4 + int.from_bytes(data[start + 2:start + 4], "big") - 2] = (
        b"\xff\xe1" + length.to_bytes(2, "big") + b"Exif\0\0" + payload)
    assert image_info_of(bytes(motorola)) == ImageInfo("image/jpeg", 200, 300)


@pytest.mark.parametrize("marker", sorted(JPEG_SOF))
def test_every_start_of_frame_marker(marker: int) -> None:
    data = bytearray(encode(picture(123, 45), "JPEG"))
    at = data.index(b"\xff\xc0")
    data[at + 1] = marker
    assert image_info_of(bytes(data)) == ImageInfo("image/jpeg", 123, 45)


@pytest.mark.parametrize("marker", [0xC4, 0xC8, 0xCC])
def test_markers_between_the_frames_are_not_frames(marker: int) -> None:
    """DHT, JPG and DAC sit in the SOF range but are not frame headers: skipped as segments."""
    data = encode(picture(123, 45), "JPEG")
    at = data.index(b"\xff\xc0")
    fake = bytes([0xFF, marker]) + struct.pack(">HBHH", 8, 8, 999, 999) + b"\0"
    assert image_info_of(data[:at] + fake + data[at:]) == ImageInfo("image/jpeg", 123, 45)


def test_fill_bytes_and_standalone_markers_before_a_segment() -> None:
    data = encode(picture(123, 45), "JPEG")
    at = data.index(b"\xff\xc0")
    padded = data[:at] + b"\xff\xff\xff" + b"\xff\xd0" + b"\xff\x01" + data[at:]
    assert image_info_of(padded) == ImageInfo("image/jpeg", 123, 45)


def test_gif() -> None:
    assert image_info_of(encode(picture(31, 17, "P"), "GIF")) == ImageInfo("image/gif", 31, 17)
    frames = [picture(64, 48).convert("P"), Image.new("RGB", (64, 48), "white").convert("P")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=500,
                  loop=0)
    assert data.startswith(b"GIF89a")  # an animation: the 1989 version
    assert image_info_of(data) == ImageInfo("image/gif", 64, 48)


@pytest.mark.parametrize(("mode", "options", "chunk"), [
    ("RGB", {"quality": 80}, b"VP8 "),
    ("RGB", {"lossless": True}, b"VP8L"),
    ("RGBA", {"quality": 80}, b"VP8X"),  # lossy with alpha
    ("RGB", {"quality": 80, "exif": b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0"}, b"VP8X"),
])
def test_webp(mode: str, options: dict[str, object], chunk: bytes) -> None:
    data = encode(picture(1021, 683, mode), "WEBP", **options)
    assert data[12:16] == chunk
    assert image_info_of(data) == ImageInfo("image/webp", 1021, 683)


def test_animated_webp() -> None:
    frames = [picture(200, 100), picture(200, 100, "L").convert("RGB")]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:])
    assert data[12:16] == b"VP8X"
    assert image_info_of(data) == ImageInfo("image/webp", 200, 100)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 2000), st.integers(1, 2000),
       st.sampled_from(["PNG", "JPEG", "GIF", "WEBP", "WEBP-lossless"]))
def test_agrees_with_pillow_on_any_size(width: int, height: int, kind: str) -> None:
    options = {"lossless": True} if kind == "WEBP-lossless" else {}
    data = encode(picture(width, height), kind.split("-")[0], **options)
    info = image_info_of(data)
    assert info is not None
    assert (info.width, info.height) == Image.open(io.BytesIO(data)).size == (width, height)


def test_only_the_header_is_read() -> None:
    """A JPEG with megabytes of metadata before its frame costs a few small reads."""
    data = encode(picture(800, 600), "JPEG", icc_profile=b"\0" * 3_000_000)
    read: list[int] = []

    def reader(offset: int, count: int) -> bytes:
        read.append(count)
        return data[offset:offset + count]

    assert image_info(reader) == ImageInfo("image/jpeg", 800, 600)
    assert sum(read) < 2_000
    data = encode(picture(800, 600), "PNG")
    read.clear()
    assert image_info(reader) == ImageInfo("image/png", 800, 600)
    assert sum(read) <= 30


@pytest.mark.parametrize("data", [
    b"", b"plain text, not a picture", b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8", b"\xff\xd8\xff", b"\xff\xd8\xff\xe0\x00",  # JPEG cut inside its first segment
    b"\xff\xd8\xff\xda\x00\x08" + b"\0" * 10,  # data starts before any frame header
    b"\xff\xd8\xff\xe0\x00\x01",  # a segment length below 2
    b"\xff\xd8\x00\x00",  # no marker where one must be
    b"GIF89a\x00\x00\x10\x00",  # zero width
    b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0\x01\0\0\x9d\x01\x2a\x10\0\x10\0",  # not a key frame
    b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0\0\0\0\0\0\0\x10\0\x10\0",  # no start code
    b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2e\0\0\0\0",  # wrong signature
    b"RIFF\0\0\0\0WEBPVP8X\0\0\0\0\0\0",  # cut short
    b"RIFF\0\0\0\0WEBPALPH\0\0\0\0",  # unknown first chunk
    b"RIFF\0\0\0\0WAVEfmt ",
])
def test_not_a_picture_or_damaged(data: bytes) -> None:
    assert image_info_of(data) is None


def test_damaged_real_pictures() -> None:
    png = encode(picture(10, 10), "PNG")
    assert image_info_of(png[:20]) is None  # cut inside the header
    assert image_info_of(png[:12] + b"IDAT" + png[16:]) is None  # IHDR not first
    jpeg = encode(picture(10, 10), "JPEG")
    assert image_info_of(jpeg[:jpeg.index(b"\xff\xc0")]) is None  # cut before the frame


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.sampled_from([b"", b"\xff\xd8", b"\x89PNG\r\n\x1a\n",
                                                  b"RIFF\0\0\0\0WEBPVP8X", b"GIF89a"]))
def test_any_bytes_give_an_answer(data: bytes, start: bytes) -> None:
    info = image_info_of(start + data)
    assert info is None or (info.width > 0 and info.height > 0)


def test_media_types() -> None:
    assert media_type("img/Map.PNG") == "image/png"
    assert media_type("photo.jpeg") == "image/jpeg"
    assert media_type("chart.svg") == "image/svg+xml"
    assert media_type("report.pdf") == "application/pdf"
    assert media_type("clip.mp3") == "audio/mpeg"
    assert media_type("README") is None
    assert media_type("archive.tar.xz") is None

"""Draws the two charts of the sample briefs (run by hand; the PNG files are committed).

    python tests/data/charts.py OUTPUT_FOLDER   (then copy them into content/)

Needs Pillow (in the test extra) and the DejaVu fonts (Debian's fonts-dejavu-core). The
figures are those the briefs quote: the National Hurricane Center's advisories for Hurricane
Matthew, the Registraduría's count of Colombia's referendum of 2 October 2016.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONTS = Path("/usr/share/fonts/truetype/dejavu")
WIDTH, HEIGHT = 1200, 630
"""1.91:1, the shape of the large image cards of social sites."""
INK, PAPER, MUTED, GRID = (28, 28, 30), (250, 249, 246), (110, 110, 115), (222, 220, 214)


def font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")),
                              size)


def canvas(title: str, source: str) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    draw.text((48, 34), title, font=font(34, bold=True), fill=INK)
    draw.text((48, HEIGHT - 44), source, font=font(18), fill=MUTED)
    return image, draw


MATTHEW = [  # (where, when, top sustained wind in mph)
    ("Caribbean Sea", "Sep 30", 160),
    ("Haiti", "Oct 4", 145),
    ("Cuba", "Oct 4", 140),
    ("Bahamas", "Oct 6", 140),
    ("Off Florida", "Oct 7", 120),
    ("South Carolina", "Oct 8", 75),
]
CATEGORIES = [(74, "1"), (96, "2"), (111, "3"), (130, "4"), (157, "5")]
"""The Saffir-Simpson scale: the lowest wind of each category, in mph."""
HEAT = [(246, 196, 69), (240, 150, 55), (226, 98, 46), (196, 52, 44), (140, 24, 58)]


def matthew(path: Path) -> None:
    image, draw = canvas("Hurricane Matthew's top winds, stop by stop (mph)",
                         "Source: National Hurricane Center advisories. "
                         "Lines: Saffir-Simpson categories 1 to 5.")
    left, right, top, bottom = 110, WIDTH - 60, 110, HEIGHT - 130
    scale = (bottom - top) / 180
    for wind, label in CATEGORIES:
        y = bottom - wind * scale
        draw.line((left, y, right, y), fill=GRID, width=2)
        draw.text((left - 52, y - 12), f"Cat {label}", font=font(17), fill=MUTED)
    step = (right - left) / len(MATTHEW)
    for index, (where, when, wind) in enumerate(MATTHEW):
        category = sum(wind >= low for low, _ in CATEGORIES)
        x0 = left + index * step + step * 0.18
        x1 = left + (index + 1) * step - step * 0.18
        draw.rectangle((x0, bottom - wind * scale, x1, bottom), fill=HEAT[category - 1])
        middle = (x0 + x1) / 2
        draw.text((middle, bottom - wind * scale - 8), str(wind), font=font(24, bold=True),
                  fill=INK, anchor="md")
        draw.text((middle, bottom + 14), where, font=font(19, bold=True), fill=INK, anchor="ma")
        draw.text((middle, bottom + 40), when, font=font(18), fill=MUTED, anchor="ma")
    draw.line((left, bottom, right, bottom), fill=INK, width=2)
    save(image, path)


COLOMBIA = [("No", 6_431_376, (196, 52, 44)), ("Yes", 6_377_482, (38, 110, 170))]


def colombia(path: Path) -> None:
    image, draw = canvas("Colombia's peace referendum, October 2: votes cast",
                         "Source: Registraduría Nacional del Estado Civil (preliminary count). "
                         "Turnout: 37.4%.")
    left, right = 190, WIDTH - 90
    total = sum(votes for _, votes, _ in COLOMBIA)
    most = max(votes for _, votes, _ in COLOMBIA)
    for index, (answer, votes, colour) in enumerate(COLOMBIA):
        y = 150 + index * 150
        end = left + (right - left) * votes / most
        draw.rectangle((left, y, end, y + 90), fill=colour)
        draw.text((left - 24, y + 45), answer, font=font(40, bold=True), fill=INK, anchor="rm")
        draw.text((end - 18, y + 45), f"{votes:,}  ({100 * votes / total:.1f}%)",
                  font=font(28, bold=True), fill=PAPER, anchor="rm")
    draw.text((left, 470), f"Margin: {COLOMBIA[0][1] - COLOMBIA[1][1]:,} votes out of "
                           f"{total:,} for Yes or No", font=font(24), fill=INK)
    save(image, path)


def save(image: Image.Image, path: Path) -> None:
    """As a PNG of at most 64 colours (flat charts: a tenth of the size of full colour)."""
    image.quantize(64, dither=Image.Dither.NONE).save(path, "PNG", optimize=True)


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    matthew(out / "matthew-winds.png")
    colombia(out / "colombia-referendum.png")

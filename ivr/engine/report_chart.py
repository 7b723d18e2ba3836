"""The report's chart: calls and SMS messages per minute of a period, as a PNG made with Pillow.

Pillow is the Python imaging library (drawing, fonts, PNG) that every packager ships; a chart of two
series does not need a plotting library. `chart_png` is CPU work: the report sender runs it in a thread.
Periods longer than two hours are drawn per several minutes (BINS: at most MAX_BARS bars), said in the
chart's title. Times along the bottom are local to the campaign, on the 24-hour clock. Words are in the
report's language, drawn with DejaVu Sans (Debian's fonts-dejavu-core: Cyrillic included; Pillow's own
default font has Latin letters only).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont

from ivr.i18n import DEFAULT, t, tn

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 44, 40
INK, MUTED, LINE, PAPER = (28, 36, 48), (91, 102, 117), (213, 219, 227), (255, 255, 255)
CALLS, MESSAGES = (31, 95, 191), (29, 122, 58)           # the web UI's accent and "ok" colours
BINS = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)
MAX_BARS = 120

FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf")


@dataclass(frozen=True)
class Series:
    calls: list[int]
    messages: list[int]
    start: datetime
    bin_minutes: int


def bin_minutes(minutes: int) -> int:
    """The fewest minutes per bar that keep the chart to MAX_BARS bars."""
    return next((b for b in BINS if minutes / b <= MAX_BARS), BINS[-1])


def series(start: datetime, end: datetime, calls: list[tuple[datetime, int]],
           messages: list[tuple[datetime, int]]) -> Series:
    """Counts per bar from per-minute counts (minutes without any left out) over [start, end)."""
    minutes = max(1, int((end - start).total_seconds() // 60))
    size = bin_minutes(minutes)
    bars = -(-minutes // size)

    def binned(counts: list[tuple[datetime, int]]) -> list[int]:
        out = [0] * bars
        for minute, count in counts:
            index = int((minute - start).total_seconds() // 60) // size
            if 0 <= index < bars:
                out[index] += count
        return out
    return Series(binned(calls), binned(messages), start, size)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in FONTS:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def chart_png(data: Series, tz: ZoneInfo, language: str = DEFAULT) -> bytes:
    """The chart as PNG bytes, its words in `language`."""
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    font = _font(12)
    title = _font(14)
    per = t("minute") if data.bin_minutes == 1 else tn("{n} minute", "{n} minutes", data.bin_minutes)
    draw.text((LEFT, 10), t("Calls and SMS messages per {bin}", bin=per).render(language), fill=INK, font=title)
    legend_x = WIDTH - RIGHT - 250
    for colour, label in ((CALLS, t("calls")), (MESSAGES, t("SMS messages"))):
        draw.rectangle((legend_x, 14, legend_x + 12, 26), fill=colour)
        draw.text((legend_x + 18, 12), label.render(language), fill=INK, font=font)
        legend_x += 18 + draw.textlength(label.render(language), font=font) + 16
    plot = (LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM)
    top = max(1, *data.calls, *data.messages)
    draw.line((plot[0], plot[3], plot[2], plot[3]), fill=LINE, width=1)
    draw.line((plot[0], plot[1], plot[2], plot[1]), fill=LINE, width=1)
    draw.text((plot[0] - 6, plot[1]), str(top), fill=MUTED, font=font, anchor="ra")
    draw.text((plot[0] - 6, plot[3]), "0", fill=MUTED, font=font, anchor="rs")
    bars = len(data.calls)
    slot = (plot[2] - plot[0]) / bars
    width = max(1.0, slot * 0.4)
    for i, (calls, messages) in enumerate(zip(data.calls, data.messages)):
        x = plot[0] + i * slot + slot * 0.1
        for offset, count, colour in ((0.0, calls, CALLS), (width, messages, MESSAGES)):
            if count:
                height = (plot[3] - plot[1]) * count / top
                draw.rectangle((x + offset, plot[3] - height, x + offset + width - 1, plot[3] - 1), fill=colour)
    for i in sorted({0, bars // 2, bars}):
        at = data.start + timedelta(minutes=i * data.bin_minutes)
        x = plot[0] + i * slot
        draw.line((x, plot[3], x, plot[3] + 4), fill=MUTED)
        draw.text((x, plot[3] + 6), f"{at.astimezone(tz):%H:%M}", fill=MUTED, font=font,
                  anchor="ma" if 0 < i < bars else ("la" if i == 0 else "ra"))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()

"""Server-side SVG charts for the result pages and, later, the PDF reports.

Bars are rendered with pygal, the radar drawn here (pygal's radar puts its labels on
the axes and clips long ones); either way the same SVG string goes inline into an HTML page and
into a WeasyPrint PDF. The output is deterministic: the chart id is a digest of
the inputs (pygal would use a random uuid), and pygal's comments (which carry
today's date) and its tooltip script are removed, so equal inputs give equal
bytes and tests can compare them. Text stays text (not paths) in a CJK-capable
font family list, so Chinese labels render wherever a CJK font is installed
(Debian: ``fonts-noto-cjk``).

Figures arrive as ``Decimal`` and are turned into floats here only to place
points on the drawing; no score is ever computed from them.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

import pygal
from pygal.style import Style

__all__ = ["FONT_FAMILY", "bar_chart", "radar_chart"]

FONT_FAMILY = (
    '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", '
    '"Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif'
)
# Colour-blind-safe (Okabe–Ito) and legible in greyscale print.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")

LABEL_FONT_SIZE = 13
RADAR_LABEL_FONT_SIZE = 14

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL)


def _style(font_size: int = LABEL_FONT_SIZE) -> Style:
    return Style(
        font_family=FONT_FAMILY,
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#1f2933",
        foreground_strong="#1f2933",
        foreground_subtle="#9aa5b1",
        colors=COLOURS,
        label_font_size=font_size,
        major_label_font_size=font_size,
        legend_font_size=font_size,
        title_font_size=15,
        value_font_size=12,
        tooltip_font_size=12,
    )


def _chart_id(kind: str, *parts: object) -> str:
    digest = hashlib.sha256(repr((kind, *parts)).encode("utf-8")).hexdigest()[:12]
    return f"xm-{kind}-{digest}"


def _render(chart: pygal.graph.graph.Graph) -> str:
    svg = chart.render(is_unicode=True)
    svg = _COMMENT.sub("", svg)
    return _SCRIPT.sub("", svg)


def _wide_text_extra(labels: Sequence[str], font_size: int) -> int:
    """Pixels pygal's label-width estimate misses for the widest label.

    pygal reckons every character at 0.6 em; Chinese characters are a full em
    wide, so long school names would be cut off at the left edge.
    """
    widest = max(
        (
            sum(1 for char in label if unicodedata.east_asian_width(char) in {"W", "F"})
            for label in labels
        ),
        default=0,
    )
    return int(widest * 0.4 * font_size) + 1


def _points(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _as_float(value: Decimal | int | float | None) -> float | None:
    return None if value is None else float(value)


# Each series of a radar differs in line style and marker as well as colour, so the
# school and its group average stay apart in black-and-white print.
RADAR_STROKES = ("", "6 4", "2 3", "9 3 2 3")
RADAR_MARKERS = ("circle", "square", "triangle", "diamond")
RADAR_RINGS = (25, 50, 75, 100)


def text_width(text: str, font_size: float) -> float:
    """A generous estimate of a label's drawn width: CJK characters are a full em, others 0.62."""
    return font_size * sum(
        1.0 if unicodedata.east_asian_width(char) in {"W", "F"} else 0.62 for char in text
    )


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _marker(kind: str, x: float, y: float, colour: str, size: float) -> str:
    half = size / 2
    if kind == "circle":
        return (
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(half)}" fill="{colour}" '
            f'stroke="{colour}" stroke-width="1"/>'
        )
    if kind == "square":
        return (
            f'<rect x="{_num(x - half)}" y="{_num(y - half)}" width="{_num(size)}" '
            f'height="{_num(size)}" fill="#ffffff" stroke="{colour}" stroke-width="1.8"/>'
        )
    if kind == "triangle":
        points = [
            (x, y - half * 1.2),
            (x + half * 1.1, y + half * 0.8),
            (x - half * 1.1, y + half * 0.8),
        ]
        fill = colour
    else:
        points = [
            (x, y - half * 1.3),
            (x + half * 1.3, y),
            (x, y + half * 1.3),
            (x - half * 1.3, y),
        ]
        fill = "#ffffff"
    coords = " ".join(f"{_num(px)},{_num(py)}" for px, py in points)
    return f'<polygon points="{coords}" fill="{fill}" stroke="{colour}" stroke-width="1.8"/>'


def radar_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[Decimal | None]],
    max_values: Sequence[Decimal],
    *,
    title: str = "",
    width: int = 420,
    height: int = 380,
    font_size: int = RADAR_LABEL_FONT_SIZE,
) -> str:
    """A radar (spider) chart of ``series`` over the axes ``labels``, as an SVG string.

    Each axis has its own maximum (``max_values``; the dimensions of a framework
    carry different points), so every value is drawn as a share of its axis
    maximum on a common 0–100 % scale. ``None`` is a gap (not applicable). Series
    differ in colour, line style (solid, dashed, …) and marker (filled circle,
    open square, …). The radius is chosen so that every axis label fits inside
    the drawing beside its axis end, whatever the label's length, at
    ``font_size`` in the drawing's own units.
    """
    if len(labels) != len(max_values):
        raise ValueError("radar_chart needs one maximum per axis label")
    if len(labels) < 3:
        raise ValueError("radar_chart needs at least three axes")
    for name, values in series.items():
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} axes")
    labels = [str(label) for label in labels]
    names = [str(name) for name in series]
    count = len(labels)
    margin = 6.0
    gap = font_size * 0.5
    row = font_size + 8
    title_height = font_size + 10 if title else 0
    legend_height = row * len(names) + 4
    plot_top = margin + title_height
    plot_height = height - plot_top - legend_height - margin
    cx = width / 2
    cy = plot_top + plot_height / 2
    angles = [-math.pi / 2 + 2 * math.pi * index / count for index in range(count)]
    widths = [text_width(label, font_size) for label in labels]
    limits = [min(cx, plot_height / 2) - margin]
    for angle, label_width in zip(angles, widths, strict=True):
        dx, dy = math.cos(angle), math.sin(angle)
        if abs(dx) > 0.3:  # label beside the axis end
            limits.append((cx - margin - gap - label_width) / abs(dx))
        else:  # label centred above or below
            limits.append(cx - margin - label_width / 2)
        if abs(dy) > 0.3:
            limits.append((plot_height / 2 - margin - gap - font_size) / abs(dy))
        else:
            limits.append((plot_height / 2 - margin - font_size / 2) / max(abs(dy), 0.01))
    radius = max(20.0, min(limits))

    def point(index: int, share: float) -> tuple[float, float]:
        return (
            cx + radius * share * math.cos(angles[index]),
            cy + radius * share * math.sin(angles[index]),
        )

    chart_id = _chart_id(
        "radar",
        tuple(labels),
        tuple((k, tuple(v)) for k, v in zip(names, series.values(), strict=True)),
        tuple(max_values),
        (title, width, height, font_size),
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="chart-{chart_id}" class="xm-radar" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f"font-family={quoteattr(FONT_FAMILY)}>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    if title:
        parts.append(
            f'<text x="{_num(cx)}" y="{_num(margin + font_size)}" text-anchor="middle" '
            f'font-size="{font_size + 1}" font-weight="bold" fill="#1f2933">{escape(title)}</text>'
        )
    # rings, axes and ring labels (on the left of the first axis)
    for ring in RADAR_RINGS:
        coords = " ".join(
            f"{_num(x)},{_num(y)}" for x, y in (point(i, ring / 100) for i in range(count))
        )
        parts.append(
            f'<polygon points="{coords}" fill="none" stroke="#c3ccd5" stroke-width="0.8"/>'
        )
    for index in range(count):
        x, y = point(index, 1)
        parts.append(
            f'<line x1="{_num(cx)}" y1="{_num(cy)}" x2="{_num(x)}" y2="{_num(y)}" '
            f'stroke="#9aa5b1" stroke-width="0.8"/>'
        )
    small = max(8, round(font_size * 0.72))
    for ring in RADAR_RINGS:
        x, y = point(0, ring / 100)
        parts.append(
            f'<text x="{_num(x - 3)}" y="{_num(y + small + 1)}" text-anchor="end" '
            f'font-size="{small}" fill="#5f6b76">{ring}%</text>'
        )
    # axis labels beside the axis ends
    for index, label in enumerate(labels):
        dx, dy = math.cos(angles[index]), math.sin(angles[index])
        x = cx + (radius + gap) * dx
        y = cy + (radius + gap) * dy
        anchor = "start" if dx > 0.3 else "end" if dx < -0.3 else "middle"
        if dy < -0.3:
            baseline = y - font_size * 0.15
        elif dy > 0.3:
            baseline = y + font_size * 0.85
        else:
            baseline = y + font_size * 0.35
        parts.append(
            f'<text class="axis-label" x="{_num(x)}" y="{_num(baseline)}" '
            f'text-anchor="{anchor}" font-size="{font_size}" fill="#1f2933">{escape(label)}</text>'
        )
    # series: lines between neighbouring axes that both have a value, then markers
    for order, values in enumerate(series.values()):
        colour = COLOURS[order % len(COLOURS)]
        dash = RADAR_STROKES[order % len(RADAR_STROKES)]
        marker = RADAR_MARKERS[order % len(RADAR_MARKERS)]
        shares = [
            None if value is None or not top else float(Decimal(value) * 100 / Decimal(top))
            for value, top in zip(values, max_values, strict=True)
        ]
        segments = []
        for index in range(count):
            following = (index + 1) % count
            if shares[index] is None or shares[following] is None:
                continue
            (x1, y1), (x2, y2) = (
                point(index, shares[index] / 100),
                point(following, shares[following] / 100),
            )
            segments.append(f"M{_num(x1)} {_num(y1)} L{_num(x2)} {_num(y2)}")
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<g class="series" data-series="{order}">')
        if segments:
            parts.append(
                f'<path d="{" ".join(segments)}" fill="none" stroke="{colour}" '
                f'stroke-width="{2.4 if order == 0 else 2}" stroke-linejoin="round"{dash_attr}/>'
            )
        for index, share in enumerate(shares):
            if share is None:
                continue
            x, y = point(index, share / 100)
            parts.append(
                f'<g class="dot">{_marker(marker, x, y, colour, font_size * 0.5)}'
                f"<desc>{share:.0f}%</desc></g>"
            )
        parts.append("</g>")
    # legend: one row per series, its line style and marker before its name
    sample = font_size * 2.4
    legend_width = sample + 6 + max(text_width(name, font_size) for name in names)
    left = max(margin, (width - legend_width) / 2)
    top = height - margin - legend_height + 4
    for order, name in enumerate(names):
        colour = COLOURS[order % len(COLOURS)]
        dash = RADAR_STROKES[order % len(RADAR_STROKES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        y = top + row * order + row / 2
        symbol = _marker(
            RADAR_MARKERS[order % len(RADAR_MARKERS)], left + sample / 2, y, colour, font_size * 0.5
        )
        parts.append(
            f'<g class="legend"><line x1="{_num(left)}" y1="{_num(y)}" '
            f'x2="{_num(left + sample)}" y2="{_num(y)}" stroke="{colour}" '
            f'stroke-width="{2.4 if order == 0 else 2}"{dash_attr}/>'
            f"{symbol}"
            f'<text x="{_num(left + sample + 6)}" y="{_num(y + font_size * 0.35)}" '
            f'font-size="{font_size}" fill="#1f2933">{escape(name)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[Decimal | None],
    max_value: Decimal,
    *,
    title: str = "",
    width: int = 760,
    bar_height: int = 30,
) -> str:
    """A horizontal bar chart (one bar per label, in the given order) as an SVG string.

    Horizontal so long Chinese school names stay readable; the scale runs from 0
    to ``max_value`` (the framework total) so charts of different rounds compare.
    """
    if len(labels) != len(values):
        raise ValueError("bar_chart needs one value per label")
    height = max(160, 90 + bar_height * len(labels))
    chart = pygal.HorizontalBar(
        style=_style(),
        js=[],
        disable_xml_declaration=True,
        width=width,
        height=height,
        range=(0, float(max_value)),
        show_legend=False,
        print_values=True,
        print_values_position="top",
        title=title or None,
        value_formatter=_points,
        truncate_label=-1,
        margin=12,
        margin_left=12 + _wide_text_extra(labels, LABEL_FONT_SIZE),
    )
    chart.uuid = _chart_id("bar", tuple(labels), tuple(values), max_value)
    # pygal draws horizontal bars bottom-up; reverse so the first label is on top.
    chart.x_labels = list(reversed(labels))
    chart.add("", [_as_float(value) for value in reversed(values)])
    return _render(chart)

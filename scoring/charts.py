"""Server-side SVG charts for the result pages and, later, the PDF reports.

Rendered with pygal, so the same SVG string goes inline into an HTML page and
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
import re
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal

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
RADAR_FONT_SIZE = 16  # radars are drawn small, several to a row

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


def radar_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[Decimal | None]],
    max_values: Sequence[Decimal],
    *,
    title: str = "",
    width: int = 420,
    height: int = 380,
) -> str:
    """A radar (spider) chart of ``series`` over the axes ``labels``, as an SVG string.

    Each axis has its own maximum (``max_values``; the dimensions of a framework
    carry different points), so every value is drawn as a share of its axis
    maximum on a common 0–100 % scale. ``None`` is a gap (not applicable). The
    first series is drawn solid, the following ones dashed (e.g. the group
    average).
    """
    if len(labels) != len(max_values):
        raise ValueError("radar_chart needs one maximum per axis label")
    if len(labels) < 3:
        raise ValueError("radar_chart needs at least three axes")
    for name, values in series.items():
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} axes")
    chart = pygal.Radar(
        style=_style(RADAR_FONT_SIZE),
        js=[],
        disable_xml_declaration=True,
        width=width,
        height=height,
        range=(0, 100),
        fill=False,
        dots_size=3,
        show_legend=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=1,
        truncate_legend=-1,
        title=title or None,
        y_labels=[25, 50, 75, 100],
        value_formatter=lambda value: f"{value:.0f}%",
        margin=12,
    )
    chart.uuid = _chart_id(
        "radar", tuple(labels), tuple((k, tuple(v)) for k, v in series.items()), tuple(max_values)
    )
    chart.x_labels = list(labels)
    for index, (name, values) in enumerate(series.items()):
        shares = [
            None if value is None or not top else float(Decimal(value) * 100 / Decimal(top))
            for value, top in zip(values, max_values, strict=True)
        ]
        stroke = {"width": 2.5} if index == 0 else {"width": 2, "dasharray": "6, 4"}
        chart.add(name, shares, stroke_style=stroke)
    return _render(chart)


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

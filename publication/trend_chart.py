"""A server-rendered SVG line chart for a school's results across rounds.

Drawn with pygal in the manner of ``reports.charts`` (same fonts and colours,
deterministic output: the chart id is a digest of the inputs, pygal's dated
comments and tooltip script are removed), so the same SVG goes into a page or a
PDF and equal inputs give equal bytes. Figures arrive as ``Decimal`` and become
floats here only to place points on the drawing.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal

import pygal
from pygal.style import Style

from scoring.charts import COLOURS, FONT_FAMILY

__all__ = ["line_chart"]

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL)
FONT_SIZE = 13


def _style() -> Style:
    return Style(
        font_family=FONT_FAMILY,
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#1f2933",
        foreground_strong="#1f2933",
        foreground_subtle="#9aa5b1",
        colors=COLOURS,
        label_font_size=FONT_SIZE,
        major_label_font_size=FONT_SIZE,
        legend_font_size=FONT_SIZE,
        title_font_size=15,
        value_font_size=12,
        tooltip_font_size=12,
    )


def _half_width(label: str) -> int:
    """Half the drawn width of an x label: the first and last labels are centred on the
    plot's edges and would be cut off without that much margin (Chinese characters are a
    full em wide, other characters about 0.6 em)."""
    wide = sum(1 for char in label if unicodedata.east_asian_width(char) in {"W", "F"})
    return int((wide + 0.6 * (len(label) - wide)) * FONT_SIZE / 2) + 1


def _figure(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def line_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[Decimal | None]],
    *,
    y_max: Decimal,
    title: str = "",
    width: int = 760,
    height: int = 340,
    print_values: bool = True,
) -> str:
    """Lines of ``series`` over the x positions ``labels`` (oldest first), as an SVG string.

    The y axis runs from 0 to ``y_max`` (e.g. the framework's total points, or 100
    for shares), so charts of different schools compare. ``None`` is a gap (the
    school was not assessed in that round). The first series is drawn solid and
    thicker, the others thinner.
    """
    if y_max <= 0:
        raise ValueError("line_chart needs a positive y_max")
    for name, values in series.items():
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")
    chart = pygal.Line(
        style=_style(),
        js=[],
        disable_xml_declaration=True,
        width=width,
        height=height,
        range=(0, float(y_max)),
        include_x_axis=True,
        allow_interruptions=True,
        show_legend=len(series) > 1,
        legend_at_bottom=True,
        truncate_legend=-1,
        truncate_label=-1,
        print_values=print_values,
        print_values_position="top",
        value_formatter=_figure,
        dots_size=4,
        title=title or None,
        margin=12,
        margin_left=12 + (_half_width(labels[0]) if labels else 0),
        margin_right=12 + (_half_width(labels[-1]) if labels else 0),
    )
    digest = hashlib.sha256(
        repr(
            ("line", tuple(labels), tuple((k, tuple(v)) for k, v in series.items()), y_max)
        ).encode("utf-8")
    ).hexdigest()[:12]
    chart.uuid = f"xm-line-{digest}"
    chart.x_labels = list(labels)
    for index, (name, values) in enumerate(series.items()):
        stroke = {"width": 3} if index == 0 else {"width": 2}
        chart.add(
            name,
            [None if value is None else float(value) for value in values],
            stroke_style=stroke,
        )
    svg = chart.render(is_unicode=True)
    return _SCRIPT.sub("", _COMMENT.sub("", svg))

"""The trend chart: a deterministic, server-rendered SVG line chart."""

from __future__ import annotations

from decimal import Decimal

import pytest

from publication.trend_chart import line_chart

LABELS = ["2019–2021 第一轮", "2022–2024 第二轮", "2025–2027 第三轮"]


def test_equal_inputs_give_equal_svg_with_the_labels_as_text():
    series = {"总分": [Decimal("70.5"), None, Decimal("91")]}
    svg = line_chart(LABELS, series, y_max=Decimal(100))
    assert svg == line_chart(LABELS, series, y_max=Decimal(100))
    assert svg.startswith("<svg")
    assert "<script" not in svg and "<!--" not in svg
    for label in LABELS:
        assert label in svg
    assert "70.5" in svg and "91" in svg


def test_different_figures_give_a_different_chart_id():
    one = line_chart(LABELS, {"总分": [Decimal(1), Decimal(2), Decimal(3)]}, y_max=Decimal(100))
    two = line_chart(LABELS, {"总分": [Decimal(1), Decimal(2), Decimal(4)]}, y_max=Decimal(100))
    assert one.split('id="', 1)[1][:30] != two.split('id="', 1)[1][:30]


def test_a_series_of_the_wrong_length_or_a_zero_scale_is_refused():
    with pytest.raises(ValueError):
        line_chart(LABELS, {"总分": [Decimal(1)]}, y_max=Decimal(100))
    with pytest.raises(ValueError):
        line_chart(LABELS, {"总分": [None, None, None]}, y_max=Decimal(0))

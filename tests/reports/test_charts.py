"""The SVG charts: deterministic, Chinese labels as text, no script, valid XML."""

from decimal import Decimal
from xml.etree import ElementTree

import pytest

from scoring.charts import FONT_FAMILY, bar_chart, radar_chart

DIMENSIONS = ["学校管理", "教育教学", "办学保障", "办学效果"]
MAXIMA = [Decimal(25), Decimal(30), Decimal(20), Decimal(25)]
SERIES = {
    "厦门鹭岛技工学校（样例）": [Decimal("25"), Decimal("15"), None, Decimal("20")],
    "组平均": [Decimal("20"), Decimal("24"), Decimal("16"), Decimal("20")],
}
SVG = "{http://www.w3.org/2000/svg}"


def texts(svg: str) -> list[str]:
    return [element.text or "" for element in ElementTree.fromstring(svg).iter(f"{SVG}text")]


def test_radar_chart_is_deterministic_valid_svg_with_chinese_text():
    svg = radar_chart(DIMENSIONS, SERIES, MAXIMA)
    assert svg == radar_chart(DIMENSIONS, SERIES, MAXIMA)
    root = ElementTree.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.attrib["id"].startswith("chart-xm-radar-")
    shown = texts(svg)
    for label in [*DIMENSIONS, *SERIES]:
        assert label in shown
    assert "Noto Sans CJK SC" in svg
    assert FONT_FAMILY.split(",")[0].replace('"', "") in svg
    assert "<script" not in svg
    assert "<!--" not in svg


def test_radar_values_are_shares_of_each_axis_maximum():
    svg = radar_chart(DIMENSIONS, SERIES, MAXIMA)
    values = [element.text for element in ElementTree.fromstring(svg).iter(f"{SVG}desc")]
    # 25 of 25 and 20 of 25 on the first series, 15 of 30; 24 of 30 on the second.
    assert "100%" in values
    assert "80%" in values
    assert "50%" in values


def test_different_inputs_give_different_chart_ids():
    first = ElementTree.fromstring(radar_chart(DIMENSIONS, SERIES, MAXIMA)).attrib["id"]
    changed = {**SERIES, "组平均": [Decimal("19"), Decimal("24"), Decimal("16"), Decimal("20")]}
    second = ElementTree.fromstring(radar_chart(DIMENSIONS, changed, MAXIMA)).attrib["id"]
    assert first != second


def test_radar_chart_refuses_mismatched_inputs():
    with pytest.raises(ValueError, match="one maximum per axis"):
        radar_chart(DIMENSIONS, SERIES, MAXIMA[:3])
    with pytest.raises(ValueError, match="at least three axes"):
        radar_chart(DIMENSIONS[:2], {"a": [Decimal(1), Decimal(2)]}, MAXIMA[:2])
    with pytest.raises(ValueError, match="has 3 values for 4 axes"):
        radar_chart(DIMENSIONS, {"a": [Decimal(1)] * 3}, MAXIMA)


def test_bar_chart_lists_every_school_in_order_with_its_total():
    labels = ["厦门技师学院", "厦门湖里数字创意技工学校（样例）", "第三所学校"]
    values = [Decimal("91.25"), Decimal("78.50"), None]
    svg = bar_chart(labels, values, Decimal(100))
    assert svg == bar_chart(labels, values, Decimal(100))
    shown = texts(svg)
    for label in labels:
        assert label in shown
    assert "91.25" in shown
    assert "78.5" in shown
    assert "<script" not in svg
    # the first label is drawn on top: pygal lists the bottom bar first
    label_order = [text for text in shown if text in labels]
    assert label_order == list(reversed(labels))


def test_bar_chart_refuses_a_value_count_that_does_not_match():
    with pytest.raises(ValueError, match="one value per label"):
        bar_chart(["a", "b"], [Decimal(1)], Decimal(100))

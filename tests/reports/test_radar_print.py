"""The radar chart as printed: labels inside the drawing, series apart without colour."""

from decimal import Decimal
from xml.etree import ElementTree

import pytest

from scoring.charts import radar_chart, text_width

SVG = "{http://www.w3.org/2000/svg}"
MAXIMA = [Decimal(25), Decimal(30), Decimal(20), Decimal(25)]
SERIES = {
    "厦门集美航空服务技工学校（样例）": [
        Decimal("22.5"),
        Decimal("27"),
        Decimal("18"),
        Decimal("23"),
    ],
    "组内平均": [Decimal("21"), Decimal("25"), Decimal("17"), Decimal("21")],
}


@pytest.mark.parametrize(
    "labels",
    [
        ["学校管理", "教育教学", "办学保障", "办学效果"],
        ["学校管理", "教育教学与人才培养质量", "办学保障", "办学效果与社会声誉"],
        ["学校管理", "教育教学", "办学保障", "办学效果", "校企合作"],
        ["School management", "Teaching", "Operating support", "Operating outcomes"],
    ],
)
@pytest.mark.parametrize(("width", "height", "font"), [(380, 330, 13), (420, 380, 14)])
def test_every_axis_label_fits_inside_the_drawing(labels, width, height, font):
    series = {name: values + [values[0]] * (len(labels) - 4) for name, values in SERIES.items()}
    maxima = MAXIMA + [MAXIMA[0]] * (len(labels) - 4)
    root = ElementTree.fromstring(
        radar_chart(labels, series, maxima, width=width, height=height, font_size=font)
    )
    drawn = [text for text in root.iter(f"{SVG}text") if text.get("class") == "axis-label"]
    assert [text.text for text in drawn] == labels
    for text in drawn:
        x, y = float(text.get("x")), float(text.get("y"))
        extent = text_width(text.text, font)
        left = {"start": x, "end": x - extent, "middle": x - extent / 2}[text.get("text-anchor")]
        assert left >= 0 and left + extent <= width, (text.text, left, extent)
        assert font * 0.8 <= y <= height, (text.text, y)


def test_the_school_and_the_group_average_differ_in_line_and_marker():
    root = ElementTree.fromstring(
        radar_chart(["学校管理", "教育教学", "办学保障", "办学效果"], SERIES, MAXIMA)
    )
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "series"]
    assert len(groups) == 2
    school, average = groups
    school_line, average_line = school.find(f"{SVG}path"), average.find(f"{SVG}path")
    assert school_line.get("stroke-dasharray") is None
    assert average_line.get("stroke-dasharray")
    school_markers = {child.tag for dot in school.iter(f"{SVG}g") for child in dot}
    average_markers = {child.tag for dot in average.iter(f"{SVG}g") for child in dot}
    assert f"{SVG}circle" in school_markers and f"{SVG}rect" not in school_markers
    assert f"{SVG}rect" in average_markers and f"{SVG}circle" not in average_markers
    # the legend repeats both, so a black-and-white print tells them apart
    legend = [g for g in root.iter(f"{SVG}g") if g.get("class") == "legend"]
    assert [g.find(f"{SVG}text").text for g in legend] == list(SERIES)
    assert legend[0].find(f"{SVG}circle") is not None
    assert legend[1].find(f"{SVG}rect") is not None

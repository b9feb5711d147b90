import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from core.errors import DomainError
from rounds.enums import FocusTag, IndicatorMethod
from rounds.framework_csv import framework_rows_from_csv
from rounds.services import framework_create

SAMPLE = (
    Path(__file__).resolve().parents[2] / "rounds" / "fixtures_data" / "sample-framework-2025.csv"
)
HEADER = "code,parent,title_zh,title_en,max_points,method,veto,tags,guidance_zh,evidence_zh"


def sample_text() -> str:
    return SAMPLE.read_text(encoding="utf-8")


def problems_of(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(DomainError) as caught:
        framework_rows_from_csv(text)
    assert caught.value.code == "csv_invalid"
    return [(item["row"], item["column"], item["code"]) for item in caught.value.details]


def test_sample_parses_to_the_whole_tree():
    rows = framework_rows_from_csv(sample_text())

    assert len(rows) == 58
    parents = {row.code: row.parent_code for row in rows}
    leaves = [row for row in rows if row.code not in set(parents.values())]
    dimensions = [row for row in rows if row.parent_code is None]
    assert [row.code for row in dimensions] == ["A", "B", "C", "D"]
    assert len(rows) - len(leaves) - len(dimensions) == 14
    assert len(leaves) == 40
    assert sum(row.max_points for row in leaves) == Decimal(100)
    assert [row.code for row in rows if row.is_veto] == ["A1.1", "A3.1", "A4.1"]
    assert all(row.method in IndicatorMethod.values for row in leaves)
    assert all(row.tags for row in rows if row.parent_code is not None)


def test_sample_row_fields_are_converted():
    by_code = {row.code: row for row in framework_rows_from_csv(sample_text())}

    licence = by_code["A1.1"]
    assert licence.parent_code == "A1"
    assert licence.max_points == Decimal("2")
    assert licence.method == IndicatorMethod.DOCUMENT_REVIEW
    assert licence.is_veto is True
    assert licence.tags == (FocusTag.COMPLIANT_OPERATION,)
    assert licence.required_evidence == ("办学许可证", "民办非企业单位登记证书", "近三年年检结论")
    assert licence.guidance.startswith("有效期内且年检合格得2分")
    assert by_code["B1.2"].tags == (FocusTag.SPECIALTY_BUILDING, FocusTag.TALENT_CULTIVATION)
    assert by_code["A"].tags == ()
    assert by_code["A"].method == ""
    assert by_code["A"].title_en == "School management"


@pytest.mark.django_db
def test_sample_rows_make_a_valid_framework():
    framework = framework_create(
        actor=None,
        name="样例框架",
        policy_title="《厦门市民办技工学校办学质量评估办法》",
        valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2029, 12, 31),
        indicators=framework_rows_from_csv(sample_text()),
    )

    assert framework.indicators.count() == 58
    assert framework.indicators.get(code="B1.2").level == 3


def test_every_problem_is_reported_with_its_row_and_column():
    lines = sample_text().splitlines()
    # Row n of the file is lines[n - 1]; row 1 is the header.
    assert lines[4].startswith("A1.2,")
    assert lines[24].startswith("B2.1,")
    lines[4] = lines[4].replace(
        ",3,data_comparison,,规范办学,", ",3x,data_comparison,,规范办学;质量,"
    )
    lines[24] = lines[24].replace(",3,data_comparison,,", ",3,site_visit,,")
    lines[25] = lines[25].replace(",2,document_review,,", ",-2,document_reveiw,,")

    assert problems_of("\n".join(lines)) == [
        (5, "max_points", "bad_number"),
        (5, "tags", "unknown_tag"),
        (25, "method", "unknown_method"),
        (26, "max_points", "bad_number"),
        (26, "method", "unknown_method"),
    ]


def test_problem_messages_name_the_row_and_the_value():
    text = f"{HEADER}\nA,,维度,,25,,,,,\nA1,A,指标,,25,,,质量第一,,\n"

    with pytest.raises(DomainError) as caught:
        framework_rows_from_csv(text)

    assert caught.value.details == [
        {
            "row": 3,
            "column": "tags",
            "code": "unknown_tag",
            "message": caught.value.details[0]["message"],
            "value": "质量第一",
        }
    ]
    assert "3" in caught.value.details[0]["message"]
    assert "质量第一" in caught.value.details[0]["message"]


def test_missing_and_unknown_columns_are_reported_on_the_header():
    text = "code,parent,title_zh,max_point,method,veto,tags\nA,,维度,25,,,\n"

    assert problems_of(text) == [
        (1, "max_points", "missing_column"),
        (1, "max_point", "unknown_column"),
    ]


def test_bad_veto_cell_count_duplicate_code_and_late_parent():
    text = "\n".join(
        [
            HEADER,
            "A,,维度,,25,,,,,",
            "A1.1,A1,观测点,,2,on_site,maybe,,,",
            "A1,A,指标,,25,,,规范办学,,",
            "A1,A,指标,,25,,,规范办学,,",
            "A1.2,A1,观测点,,2,on_site,,",
        ]
    )

    assert problems_of(text) == [
        (3, "parent", "unknown_parent"),
        (3, "veto", "bad_veto"),
        (5, "code", "duplicate_code"),
        (6, "", "cell_count"),
    ]


def test_untagged_observation_point_takes_its_indicators_tags():
    text = "\ufeff" + "\n".join(
        [
            HEADER,
            "A,,维度,,25,,,,,",
            "A1,A,指标,,25,,,校企合作；专业建设,,",
            'A1.1,A1,观测点,,25,questionnaire,是,,"说明, 含逗号",材料一；材料二;材料三',
        ]
    )

    rows = framework_rows_from_csv(text)

    assert rows[2].tags == (FocusTag.SCHOOL_ENTERPRISE, FocusTag.SPECIALTY_BUILDING)
    assert rows[2].is_veto is True
    assert rows[2].guidance == "说明, 含逗号"
    assert rows[2].required_evidence == ("材料一", "材料二", "材料三")


def test_optional_weight_and_veto_pass_mark_columns():
    text = "\n".join(
        [
            "code,parent,title_zh,max_points,method,veto,tags,weight,veto_pass_mark",
            "A,,维度,25,,,,,",
            "A1,A,指标,25,,,规范办学,0.5,",
            "A1.1,A1,观测点,25,on_site,yes,,1,20",
            "A1.2,A1,观测点,25,on_site,yes,,1.5,30",
        ]
    )

    assert problems_of(text) == [
        (5, "weight", "bad_number"),
        (5, "veto_pass_mark", "bad_number"),
    ]


def test_too_many_decimal_places_and_empty_input():
    text = f"{HEADER}\nA,,维度,,25.125,,,,,\n"

    assert problems_of(text) == [(2, "max_points", "bad_number")]
    assert problems_of("") == [(None, "", "empty")]
    assert problems_of(HEADER + "\n") == [(None, "", "empty")]

"""API representations of score sheets, self-assessments, result sets and rankings.

Points are decimal strings with two places ("12.50"), never floats. Rankings and
results are read from stored result rows; ``ranking_items`` turns rows into the JSON
items and ``ranking_table`` turns those items into the exported table, so JSON, CSV
and XLSX always say the same thing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import Column, Table
from rounds.enums import Grade
from rounds.models import Indicator, Round
from schools.enums import RankingGroup, SchoolKind
from schools.models import School
from scoring.models import ResultRow, ResultSet, Score, ScoreSheet, SelfAssessment, SelfScore
from scoring.presenter import Dimension, grade_zh

# --------------------------------------------------------------- score sheets


class ScoreSerializer(serializers.ModelSerializer):
    indicator = serializers.CharField(source="indicator.code", read_only=True)

    class Meta:
        model = Score
        fields = [
            "indicator",
            "points",
            "max_points",
            "not_applicable",
            "deduction_reason",
            "comment",
            "updated_at",
        ]
        read_only_fields = fields


class ScoreSheetSerializer(serializers.ModelSerializer):
    school_code = serializers.CharField(source="school.code", read_only=True)
    school_name = serializers.CharField(source="school.name_zh", read_only=True)
    evaluator_username = serializers.CharField(source="evaluator.username", read_only=True)
    scores = ScoreSerializer(many=True, read_only=True)

    class Meta:
        model = ScoreSheet
        fields = [
            "id",
            "round",
            "school",
            "school_code",
            "school_name",
            "evaluator",
            "evaluator_username",
            "status",
            "submitted_at",
            "version",
            "updated_at",
            "scores",
        ]
        read_only_fields = fields


class ScoreSheetOpenSerializer(serializers.Serializer):
    """Open (or fetch) the caller's sheet for a school of a round."""

    round = serializers.PrimaryKeyRelatedField(queryset=Round.objects.all())
    school = serializers.PrimaryKeyRelatedField(queryset=School.objects.all())


# Points larger than this are refused as input before they reach the service.
_POINTS_LIMIT = Decimal("1e9")


@extend_schema_field(
    {
        "oneOf": [{"type": "number"}, {"type": "string"}],
        "nullable": True,
        "description": "Points, a number or a decimal string with at most two places "
        '("12.5", "12.50"); null with not_applicable.',
    }
)
class PointsField(serializers.Field):
    """Points as sent: the service (``scoring.sheets.clean_points``) decides if they are valid.

    Only what is not a number at all is refused here, so the API and the browser
    give the same codes (``out_of_range``, ``invalid_number`` …) for the same input.
    """

    default_error_messages = {"invalid": _("A number is required.")}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            self.fail("invalid")
        if isinstance(data, str) and not data.strip():
            return data
        try:
            value = Decimal(repr(data) if isinstance(data, float) else str(data).strip())
        except (InvalidOperation, ValueError):
            return data  # the service explains what is wrong with it
        if value.is_finite() and abs(value) > _POINTS_LIMIT:
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> Any:
        return None if value is None else str(value)


class ScoreWriteSerializer(serializers.Serializer):
    """One score: PUT sends all of it, PATCH only what changes."""

    points = PointsField(required=False, allow_null=True)
    not_applicable = serializers.BooleanField(required=False, default=False)
    deduction_reason = serializers.CharField(required=False, allow_blank=True, default="")
    comment = serializers.CharField(required=False, allow_blank=True, default="")


# ------------------------------------------------------------ self-assessment


class SelfScoreSerializer(serializers.ModelSerializer):
    indicator = serializers.CharField(source="indicator.code", read_only=True)

    class Meta:
        model = SelfScore
        fields = ["indicator", "points", "max_points", "not_applicable", "note"]
        read_only_fields = fields


class SelfAssessmentSerializer(serializers.ModelSerializer):
    school_code = serializers.CharField(source="school.code", read_only=True)
    school_name = serializers.CharField(source="school.name_zh", read_only=True)
    scores = SelfScoreSerializer(many=True, read_only=True)

    class Meta:
        model = SelfAssessment
        fields = [
            "id",
            "round",
            "school",
            "school_code",
            "school_name",
            "status",
            "submitted_at",
            "scores",
        ]
        read_only_fields = fields


# ---------------------------------------------------------------- result sets


class ResultSetSerializer(serializers.ModelSerializer):
    school_count = serializers.IntegerField(read_only=True)
    missing_score_count = serializers.SerializerMethodField()

    class Meta:
        model = ResultSet
        fields = [
            "id",
            "round",
            "version",
            "computed_at",
            "consolidation_method",
            "is_published",
            "published_at",
            "trim_min_count",
            "veto_ranks_last",
            "tie_break_by_dimension",
            "spread_threshold",
            "school_count",
            "missing_score_count",
        ]
        read_only_fields = fields

    def get_missing_score_count(self, result_set: ResultSet) -> int:
        return len(result_set.missing_scores or ())


class ResultSetComputeSerializer(serializers.Serializer):
    round = serializers.PrimaryKeyRelatedField(queryset=Round.objects.all())


class FlaggedSpreadSerializer(serializers.Serializer):
    school_id = serializers.IntegerField()
    school_code = serializers.CharField(allow_null=True)
    code = serializers.CharField()
    count = serializers.IntegerField()
    min = serializers.CharField()
    max = serializers.CharField()
    spread = serializers.CharField()
    std = serializers.CharField()
    threshold = serializers.CharField()


class EvaluatorLeniencySerializer(serializers.Serializer):
    evaluator_id = serializers.IntegerField()
    evaluator_username = serializers.CharField(allow_null=True)
    scores = serializers.IntegerField()
    compared = serializers.IntegerField()
    leniency = serializers.CharField(allow_null=True)
    leniency_share = serializers.CharField(allow_null=True)
    dropped = serializers.IntegerField()
    dropped_share = serializers.CharField(allow_null=True)


class ReliabilitySerializer(serializers.Serializer):
    method = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    single_rater = serializers.FloatField(allow_null=True)
    k = serializers.IntegerField(allow_null=True)
    targets = serializers.IntegerField()
    excluded_targets = serializers.IntegerField()
    reason = serializers.CharField(allow_null=True, allow_blank=True)


class StatisticsSerializer(serializers.Serializer):
    """The consistency statistics stored with a result set when it was computed."""

    result_set = serializers.IntegerField()
    round = serializers.IntegerField()
    version = serializers.IntegerField()
    ready = serializers.BooleanField(
        help_text="False while the statistics are still being computed (in the background)."
    )
    spreads_checked = serializers.IntegerField()
    flagged_spreads = FlaggedSpreadSerializer(many=True)
    evaluators = EvaluatorLeniencySerializer(many=True)
    reliability = ReliabilitySerializer(allow_null=True)


def statistics_body(
    *, result_set: ResultSet, school_codes: dict[int, str], usernames: dict[int, str]
) -> dict[str, Any]:
    """The stored statistics with school codes and evaluator names added, missing parts empty."""
    stored = result_set.statistics or {}
    return {
        "result_set": result_set.pk,
        "round": result_set.round_id,
        "version": result_set.version,
        "ready": bool(stored),
        "spreads_checked": stored.get("spreads_checked", 0),
        "flagged_spreads": [
            {**spread, "school_code": school_codes.get(spread.get("school_id"))}
            for spread in stored.get("flagged_spreads", [])
        ],
        "evaluators": [
            {**evaluator, "evaluator_username": usernames.get(evaluator.get("evaluator_id"))}
            for evaluator in stored.get("evaluators", [])
        ],
        "reliability": stored.get("reliability"),
    }


# ---------------------------------------------------------------- audit trail


# ------------------------------------------------------------ rankings, results

KIND_LABELS = {
    SchoolKind.PUBLIC_TECHNICIAN_COLLEGE: "公办技师学院",
    SchoolKind.PRIVATE_TECHNICAL_SCHOOL: "民办技工学校",
}
GROUP_LABELS = {RankingGroup.PUBLIC: "公办", RankingGroup.PRIVATE: "民办"}
RANK_NOTE_LABELS = {
    "veto_failed_ranked_last": "否决项未通过，排在最后",
    "tie_broken_by_dimension": "同分按维度顺序区分",
    "tied": "同分并列",
}


class DimensionSerializer(serializers.Serializer):
    code = serializers.CharField()
    title_zh = serializers.CharField()
    title_en = serializers.CharField(allow_blank=True)
    max_points = serializers.DecimalField(max_digits=7, decimal_places=2)


def dimension_item(indicator: Indicator | Dimension) -> dict[str, Any]:
    return {
        "code": indicator.code,
        "title_zh": indicator.title_zh,
        "title_en": indicator.title_en,
        "max_points": str(indicator.max_points),
    }


class ResultSetRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    is_published = serializers.BooleanField()
    published_at = serializers.DateTimeField(allow_null=True)


def result_set_ref(result_set: ResultSet) -> dict[str, Any]:
    return {
        "id": result_set.pk,
        "version": result_set.version,
        "is_published": result_set.is_published,
        "published_at": (
            serializers.DateTimeField().to_representation(result_set.published_at)
            if result_set.published_at
            else None
        ),
    }


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string", "nullable": True},
        "description": "Dimension code → subtotal (decimal string); see `dimensions`.",
    }
)
class SubtotalsField(serializers.JSONField):
    pass


class RankingRowSerializer(serializers.Serializer):
    """One school in a ranking (documentation of ``ranking_items``' output)."""

    rank = serializers.IntegerField()
    group_rank = serializers.IntegerField()
    school_id = serializers.IntegerField()
    school_code = serializers.CharField()
    school_name_zh = serializers.CharField()
    school_name_en = serializers.CharField(allow_blank=True)
    school_kind = serializers.ChoiceField(choices=SchoolKind.choices)
    school_group = serializers.ChoiceField(choices=RankingGroup.choices)
    total = serializers.DecimalField(max_digits=7, decimal_places=2)
    grade = serializers.ChoiceField(choices=Grade.choices)
    rank_note = serializers.CharField(allow_blank=True)
    veto_failed = serializers.ListField(child=serializers.CharField())
    is_complete = serializers.BooleanField()
    dimension_subtotals = SubtotalsField()


def ranking_items(rows: Iterable[tuple], dimension_codes: list[str]) -> list[dict[str, Any]]:
    """Ranking items from tuples of ``scoring.selectors.ranking_values`` (one tight loop:
    this is the hottest list of the API)."""
    loads = json.loads
    items = []
    for (
        rank,
        group_rank,
        school_id,
        code,
        name_zh,
        name_en,
        kind,
        group,
        school_group,
        total,
        grade,
        rank_note,
        is_complete,
        veto_failed,
        *subtotals,
    ) in rows:
        items.append(
            {
                "rank": rank,
                "group_rank": group_rank,
                "school_id": school_id,
                "school_code": code,
                "school_name_zh": name_zh,
                "school_name_en": name_en,
                "school_kind": kind,
                "school_group": group or school_group,
                "total": str(total),
                "grade": grade,
                "rank_note": rank_note,
                "veto_failed": [] if veto_failed in (None, "", "[]") else loads(veto_failed),
                "is_complete": is_complete,
                "dimension_subtotals": dict(zip(dimension_codes, subtotals, strict=True)),
            }
        )
    return items


def ranking_item(row: ResultRow) -> dict[str, Any]:
    """The ranking item of one stored row (school joined), as ``ranking_items`` gives it."""
    school = row.school
    return {
        "rank": row.rank,
        "group_rank": row.group_rank,
        "school_id": school.pk,
        "school_code": school.code,
        "school_name_zh": school.name_zh,
        "school_name_en": school.name_en,
        "school_kind": school.kind,
        "school_group": row.group or school.ranking_group,
        "total": str(row.total),
        "grade": row.grade,
        "rank_note": row.rank_note,
        "veto_failed": list(row.veto_failed or ()),
        "is_complete": row.is_complete,
        "dimension_subtotals": row.dimension_subtotals or {},
    }


RANKING_COLUMNS = (
    Column("rank", "排名", "int", 8),
    Column("group_rank", "组内排名", "int", 10),
    Column("school_code", "学校代码", "text", 12),
    Column("school_name_zh", "学校名称", "text", 32),
    Column("school_kind", "学校类型", "text", 16),
    Column("school_group", "排名分组", "text", 10),
    Column("total", "总分", "decimal", 10),
    Column("grade", "等级", "text", 10),
)
RANKING_TRAILING_COLUMNS = (
    Column("veto_failed", "未通过的否决项", "text", 18),
    Column("rank_note", "排名说明", "text", 24),
    Column("is_complete", "评分完整", "text", 10),
)


def ranking_table(
    *, title: str, dimensions: list[dict[str, Any]], rows: list[dict[str, Any]]
) -> Table:
    """The ranking for CSV and XLSX: Chinese headers and labels, one column per dimension."""
    dimension_columns = [
        Column(f"dimension:{d['code']}", d["title_zh"] or d["code"], "decimal", 14)
        for d in dimensions
    ]
    table_rows = []
    for row in rows:
        item = {
            **row,
            "school_kind": KIND_LABELS.get(row["school_kind"], row["school_kind"]),
            "school_group": GROUP_LABELS.get(row["school_group"], row["school_group"]),
            "grade": grade_zh(row["grade"]),
            "veto_failed": "、".join(row["veto_failed"]),
            "rank_note": RANK_NOTE_LABELS.get(row["rank_note"], row["rank_note"]),
            "is_complete": "是" if row["is_complete"] else "否",
        }
        for d in dimensions:
            item[f"dimension:{d['code']}"] = row["dimension_subtotals"].get(d["code"])
        table_rows.append(item)
    return Table(
        title=title,
        columns=[*RANKING_COLUMNS, *dimension_columns, *RANKING_TRAILING_COLUMNS],
        rows=table_rows,
    )


class IndicatorResultSerializer(serializers.Serializer):
    code = serializers.CharField()
    parent_code = serializers.CharField(allow_null=True)
    level = serializers.IntegerField()
    title_zh = serializers.CharField()
    title_en = serializers.CharField(allow_blank=True)
    max = serializers.CharField(allow_null=True)
    score = serializers.CharField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    layer = serializers.CharField(allow_null=True)


class GroupAverageSerializer(serializers.Serializer):
    """The averages of one ranking group, the group stored in the result set."""

    group = serializers.ChoiceField(choices=RankingGroup.choices)
    school_count = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)
    dimension_subtotals = SubtotalsField()


class SchoolResultSerializer(RankingRowSerializer):
    """One school's stored result: the ranking item plus every indicator's subtotal, and
    the averages of its group (as stored in the set)."""

    round = serializers.IntegerField()
    result_set = ResultSetRefSerializer()
    dimensions = DimensionSerializer(many=True)
    group_average = GroupAverageSerializer()
    indicators = IndicatorResultSerializer(many=True)


def indicator_results(*, indicators: list[Indicator], row: ResultRow) -> list[dict[str, Any]]:
    """Every node of the tree, in framework order, with what the row stored for it."""
    items = []
    for indicator in indicators:
        stored = row.node(indicator.code)
        items.append(
            {
                "code": indicator.code,
                "parent_code": indicator.parent.code if indicator.parent_id else None,
                "level": indicator.level,
                "title_zh": indicator.title_zh,
                "title_en": indicator.title_en,
                "max": str(indicator.max_points),
                "score": stored.score,
                "status": stored.status or None,
                "layer": stored.layer,
            }
        )
    return items

"""REST API of scoring: rankings and results (public, published only), score sheets
(evaluators), self-assessments (school staff), result sets, consistency statistics and
the audit trail (bureau roles).

Views are thin: they check the role (``xm_eval.api`` permission classes over the
``xm_eval.permissions`` predicates), read through the selectors (which hide other
people's objects, so those answer 404) and write through ``scoring.services`` only.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import CSVRenderer, ErrorsAsJSONMixin, Pagination, Public, XLSXRenderer
from rounds import selectors as round_selectors
from schools.enums import RankingGroup
from scoring import presenter, result_sets, selectors, services
from scoring.filters import RankingFilter, ResultSetFilter, ScoreSheetFilter, SelfAssessmentFilter
from scoring.models import ResultRow, ResultSet
from scoring.permissions import (
    CanViewConsistencyStatistics,
    CanViewResultSets,
    CanViewScoreSheets,
    CanViewSelfAssessments,
)
from scoring.serializers import (
    RankingRowSerializer,
    ResultSetComputeSerializer,
    ResultSetSerializer,
    SchoolResultSerializer,
    ScoreSerializer,
    ScoreSheetOpenSerializer,
    ScoreSheetSerializer,
    ScoreWriteSerializer,
    SelfAssessmentSerializer,
    StatisticsSerializer,
    dimension_item,
    indicator_results,
    ranking_item,
    ranking_items,
    ranking_table,
    result_set_ref,
    statistics_body,
)

# An observation point's code as it may appear in a URL.
INDICATOR_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._\-]{0,31}")
MAX_ID = 2**63 - 1


def _id_or_404(value: Any) -> int:
    """A database id from a URL segment; anything else is simply not found."""
    try:
        number = int(str(value))
    except ValueError:
        raise exceptions.NotFound() from None
    if not 1 <= number <= MAX_ID:
        raise exceptions.NotFound()
    return number


def _version_param(request: Request) -> int | None:
    raw = request.query_params.get("version")
    if raw is None or raw == "":
        return None
    try:
        version = int(raw)
    except ValueError:
        version = 0
    if not 1 <= version <= MAX_ID:
        raise exceptions.ValidationError({"version": [_("A whole number from 1 is required.")]})
    return version


def _readable_result_set(request: Request, round_id: Any) -> ResultSet:
    """The result set (round joined) the request reads, or 404."""
    result_set = selectors.result_set_for_reading(
        round_id=_id_or_404(round_id), user=request.user, version=_version_param(request)
    )
    if result_set is None:
        raise exceptions.NotFound(_("This round has no published results (in that version)."))
    return result_set


ROUND_ID = OpenApiParameter("round_id", int, OpenApiParameter.PATH, description="Round id.")
SCHOOL_ID = OpenApiParameter("school_id", int, OpenApiParameter.PATH, description="School id.")
VERSION = OpenApiParameter(
    "version",
    OpenApiTypes.INT,
    OpenApiParameter.QUERY,
    description="A result-set version. Without it: the latest published version. The bureau "
    "roles may read any version, published or not; everyone else published versions only.",
)

# --------------------------------------------------------- rankings, results


class RankingPagination(Pagination):
    """The page of rankings, with the round, the result set and its dimensions."""

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"] = {
            **{k: v for k, v in paginated["properties"].items() if k != "results"},
            "round": {"type": "integer"},
            "result_set": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "version": {"type": "integer"},
                    "is_published": {"type": "boolean"},
                    "published_at": {"type": "string", "format": "date-time", "nullable": True},
                },
                "required": ["id", "version", "is_published", "published_at"],
            },
            "dimensions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "title_zh": {"type": "string"},
                        "title_en": {"type": "string"},
                        "max_points": {"type": "string", "format": "decimal"},
                    },
                    "required": ["code", "title_zh", "title_en", "max_points"],
                },
            },
            "group_averages": {
                "type": "array",
                "description": "Averages of each ranking group, by the group stored in the "
                "result set (the whole set, not the page or the filter).",
                "items": {
                    "type": "object",
                    "properties": {
                        "group": {"type": "string", "enum": list(RankingGroup.values)},
                        "school_count": {"type": "integer"},
                        "total": {"type": "string", "format": "decimal", "nullable": True},
                        "dimension_subtotals": {
                            "type": "object",
                            "additionalProperties": {"type": "string", "nullable": True},
                        },
                    },
                    "required": ["group", "school_count", "total", "dimension_subtotals"],
                },
            },
            "results": paginated["properties"]["results"],
        }
        paginated["required"] = [
            *paginated["required"],
            "round",
            "result_set",
            "dimensions",
            "group_averages",
        ]
        return paginated

    def paginate_rows(self, rows: QuerySet, request: Request) -> list[tuple]:
        """The page's rows of a ``ranking_values(with_count=True)`` query, whose last
        column is the size of the whole ranking: the page and its count in one query."""
        self.request = request
        page_size = self.get_page_size(request)
        try:
            number = int(request.query_params.get(self.page_query_param, 1))
        except ValueError:
            number = 0
        if not 1 <= number <= MAX_ID // max(page_size, 1):
            raise exceptions.NotFound(self.invalid_page_message.format(page_number=number))
        offset = (number - 1) * page_size
        fetched = list(rows[offset : offset + page_size])
        if not fetched and number > 1:
            raise exceptions.NotFound(self.invalid_page_message.format(page_number=number))
        paginator = self.django_paginator_class(rows, page_size)
        paginator.__dict__["count"] = fetched[0][-1] if fetched else 0  # no COUNT query
        self.page = paginator.page(number)
        return [row[:-1] for row in fetched]

    def get_ranking_response(self, rows: list[dict[str, Any]], extra: dict[str, Any]) -> Response:
        return Response(
            {
                "count": self.page.paginator.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                **extra,
                "results": rows,
            }
        )


class RankingsSchema(AutoSchema):
    """The CSV and XLSX answers are files of the whole ranking, not paginated JSON."""

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        content = responses.get("200", {}).get("content", {})
        if CSVRenderer.media_type in content:
            content[CSVRenderer.media_type] = {"schema": {"type": "string"}}
        if XLSXRenderer.media_type in content:
            content[XLSXRenderer.media_type] = {"schema": {"type": "string", "format": "binary"}}
        return responses


class RankingsView(ErrorsAsJSONMixin, generics.GenericAPIView):
    """The ranking of a round from its latest published result set (never recomputed).

    Filter by ``group``, ``kind`` and ``grade``; order by any column (``ordering=-total``,
    ``ordering=dimension_2``). JSON is paginated; ``?format=csv`` and ``?format=xlsx`` (or
    the Accept header) give the whole filtered ranking as a file with Chinese headers.
    """

    permission_classes = [Public]
    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]
    serializer_class = RankingRowSerializer
    pagination_class = RankingPagination
    filterset_class = RankingFilter
    schema = RankingsSchema()
    FILTER_PARAMETERS = frozenset(RankingFilter.base_filters)

    def get_queryset(self):  # noqa: ANN201 - the filter backend and the schema need one
        return ResultRow.objects.none()

    @extend_schema(parameters=[ROUND_ID, VERSION], responses={200: RankingRowSerializer(many=True)})
    def get(self, request: Request, round_id: str) -> Response:
        result_set = _readable_result_set(request, round_id)
        round = result_set.round
        presented_dimensions = presenter.result_set_dimensions(result_set=result_set)
        dimensions = [dimension_item(d) for d in presented_dimensions]
        codes = [d["code"] for d in dimensions]
        filtered = not self.FILTER_PARAMETERS.isdisjoint(request.query_params)
        rows = selectors.ranking_rows(
            result_set=result_set, dimension_codes=codes, for_filtering=filtered
        )
        if filtered:  # building the filter set costs, so only when it is used
            rows = self.filter_queryset(rows)
        file_format = request.accepted_renderer.format
        if file_format in ("csv", "xlsx"):
            table = ranking_table(
                title=f"{round.name} v{result_set.version}",
                dimensions=dimensions,
                rows=ranking_items(
                    selectors.ranking_values(rows=rows, dimension_codes=codes), codes
                ),
            )
            response = Response(table)
            response["Content-Disposition"] = (
                f'attachment; filename="rankings-round{round.pk}-v{result_set.version}'
                f'.{file_format}"'
            )
            return response
        page = self.paginator.paginate_rows(
            selectors.ranking_values(rows=rows, dimension_codes=codes, with_count=True), request
        )
        return self.paginator.get_ranking_response(
            ranking_items(page, codes),
            {
                "round": round.pk,
                "result_set": result_set_ref(result_set),
                "dimensions": dimensions,
                "group_averages": [
                    presenter.group_average_item(entry, presented_dimensions)
                    for entry in presenter.result_set_group_averages(
                        result_set=result_set, dimensions=presented_dimensions
                    )[1]
                ],
            },
        )


class SchoolResultView(generics.GenericAPIView):
    """One school's stored result in a round, with the subtotal of every indicator."""

    permission_classes = [Public]
    serializer_class = SchoolResultSerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):  # noqa: ANN201
        return ResultSet.objects.none()

    @extend_schema(parameters=[ROUND_ID, SCHOOL_ID, VERSION])
    def get(self, request: Request, round_id: str, school_id: str) -> Response:
        result_set = _readable_result_set(request, round_id)
        row = selectors.result_row_of_school(result_set=result_set, school_id=_id_or_404(school_id))
        if row is None:
            raise exceptions.NotFound(_("The school has no result in this round."))
        round = result_set.round
        indicators = list(round_selectors.framework_indicators(framework=round.framework))
        presented = presenter.result_set_present(result_set=result_set, school_id=row.school_id)
        group_average = presented.group_average(presented.school.group)
        return Response(
            {
                "round": round.pk,
                "result_set": result_set_ref(result_set),
                **ranking_item(row),
                "dimensions": [dimension_item(i) for i in indicators if i.parent_id is None],
                "group_average": presenter.group_average_item(group_average, presented.dimensions),
                "indicators": indicator_results(indicators=indicators, row=row),
            }
        )


# --------------------------------------------------------------- score sheets

INDICATOR_CODE_PARAM = OpenApiParameter(
    "code",
    str,
    OpenApiParameter.PATH,
    description="The observation point's code.",
    pattern=INDICATOR_CODE.pattern,
)


class ScoreSheetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Score sheets with their scores: evaluators their own, the bureau roles every sheet.

    Writes go through ``scoring.services`` exactly as in the browser: the same
    ranges, reasons, locking and phase rules, with the same error codes.
    """

    permission_classes = [CanViewScoreSheets]
    serializer_class = ScoreSheetSerializer
    filterset_class = ScoreSheetFilter

    def get_queryset(self):  # noqa: ANN201
        return selectors.score_sheets_visible_to(user=self.request.user)

    def _fresh(self, sheet_id: int) -> dict[str, Any]:
        return ScoreSheetSerializer(self.get_queryset().get(pk=sheet_id)).data

    @extend_schema(
        request=ScoreSheetOpenSerializer,
        responses={200: ScoreSheetSerializer, 201: ScoreSheetSerializer},
        description="Open the caller's sheet for a school of a round (201), or return it "
        "when it is open already (200). Evaluators only, on an active assignment.",
    )
    def create(self, request: Request) -> Response:
        serializer = ScoreSheetOpenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        round, school = serializer.validated_data["round"], serializer.validated_data["school"]
        existed = (
            selectors.score_sheet_of(round=round, school_id=school.pk, evaluator_id=request.user.pk)
            is not None
        )
        sheet = services.score_sheet_open(round=round, school=school, actor=request.user)
        return Response(
            self._fresh(sheet.pk), status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        )

    @extend_schema(request=None, responses={200: ScoreSheetSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """Submit the sheet: every observation point answered; it is locked afterwards."""
        sheet = self.get_object()
        services.score_sheet_submit(sheet=sheet, actor=request.user)
        return Response(self._fresh(sheet.pk))

    @extend_schema(
        parameters=[INDICATOR_CODE_PARAM],
        request=ScoreWriteSerializer,
        responses={200: ScoreSerializer},
    )
    @action(
        detail=True,
        methods=["put", "patch"],
        url_path=r"scores/(?P<code>[^/]+)",
        url_name="score",
    )
    def score(self, request: Request, pk: str | None = None, code: str = "") -> Response:
        """Enter or change one score (PUT: the whole score; PATCH: only the fields sent)."""
        sheet = self.get_object()
        if not INDICATOR_CODE.fullmatch(code):
            raise exceptions.NotFound()
        partial = request.method == "PATCH"
        serializer = ScoreWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        if partial:
            if "points" in values and "not_applicable" not in values:
                values["not_applicable"] = False  # sending points means it applies
            current = selectors.score_of_sheet(sheet=sheet, code=code)
            base = {
                "points": current.points if current else None,
                "not_applicable": current.not_applicable if current else False,
                "deduction_reason": current.deduction_reason if current else "",
                "comment": current.comment if current else "",
            }
            values = {**base, **values}
        score = services.score_set(
            sheet=sheet,
            actor=request.user,
            indicator=code,
            points=values.get("points"),
            not_applicable=values.get("not_applicable", False),
            deduction_reason=values.get("deduction_reason", ""),
            comment=values.get("comment", ""),
        )
        return Response(ScoreSerializer(score).data)


class SelfAssessmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Self-assessments with their self scores: school staff their own school's."""

    permission_classes = [CanViewSelfAssessments]
    serializer_class = SelfAssessmentSerializer
    filterset_class = SelfAssessmentFilter

    def get_queryset(self):  # noqa: ANN201
        return selectors.self_assessments_visible_to(user=self.request.user)


# ---------------------------------------------------------------- result sets


class ResultSetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every computed result set, published or not (bureau roles); compute (bureau admin);
    consistency statistics (supervisor, bureau admin). Publishing is added by
    ``publication.api.ResultSetViewSet``."""

    serializer_class = ResultSetSerializer
    filterset_class = ResultSetFilter

    def get_permissions(self):  # noqa: ANN201
        if self.action == "statistics":
            return [CanViewConsistencyStatistics()]
        return [CanViewResultSets()]

    def get_queryset(self):  # noqa: ANN201
        visible = selectors.result_sets_visible_to(user=self.request.user)
        if self.action == "statistics":
            visible = visible.defer(None)
        return visible

    @extend_schema(
        request=ResultSetComputeSerializer,
        responses={201: ResultSetSerializer},
        description="Compute the round now and store the outcome as a new version.",
    )
    def create(self, request: Request) -> Response:
        serializer = ResultSetComputeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result_set = result_sets.round_results_compute(
            round=serializer.validated_data["round"], actor=request.user
        )
        return Response(
            ResultSetSerializer(self.get_queryset().get(pk=result_set.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(responses={200: StatisticsSerializer})
    @action(detail=True, methods=["get"])
    def statistics(self, request: Request, pk: str | None = None) -> Response:
        """Consistency statistics stored with the set: spreads, leniency, reliability."""
        result_set = self.get_object()
        stored = result_set.statistics or {}
        return Response(
            statistics_body(
                result_set=result_set,
                school_codes=selectors.school_codes_of(
                    school_ids={s.get("school_id") for s in stored.get("flagged_spreads", [])}
                ),
                usernames=selectors.usernames_of(
                    user_ids={e.get("evaluator_id") for e in stored.get("evaluators", [])}
                ),
            )
        )


# ---------------------------------------------------------------- audit trail

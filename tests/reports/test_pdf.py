"""The PDF documents, rendered with real data and read back with poppler."""

import hashlib
from pathlib import Path

import pytest

from reports import services
from reports.enums import ReportKind
from reports.models import ReportArtifact
from reports.pdf import font_subsetter
from reports.tasks import render_document
from rounds.enums import Grade
from rounds.models import Indicator
from scoring.models import ResultRow
from scoring.presenter import GRADE_ZH
from tests.reports.conftest import pdf_fonts, pdf_pages, pdf_text
from tests.reports.helpers import REASONS

pytestmark = pytest.mark.django_db


def _path(artifact: ReportArtifact) -> Path:
    return Path(artifact.file.path)


def _compact(text: str) -> str:
    # pdftotext may break a line inside a name or put spaces between characters
    return "".join(text.split())


def test_every_document_of_the_demo_round(demo_round, django_capture_on_commit_callbacks):
    round, result_set = demo_round
    with django_capture_on_commit_callbacks(execute=True):
        job = services.render_job_start(result_set=result_set, actor=None)
    rows = {row.school_id: row for row in ResultRow.objects.filter(result_set=result_set)}
    unqualified = {pk for pk, row in rows.items() if row.grade == Grade.UNQUALIFIED}
    assert len(unqualified) == 2  # XM-09 (weak) and XM-05 (failed veto)

    artifacts = list(ReportArtifact.objects.filter(result_set=result_set).select_related("school"))
    by_kind = {
        kind: {a.school_id: a for a in artifacts if a.kind == kind} for kind in ReportKind.values
    }
    assert set(by_kind[ReportKind.SCHOOL_REPORT]) == set(rows)
    assert set(by_kind[ReportKind.RECTIFICATION_NOTICE]) == unqualified
    assert set(by_kind[ReportKind.ROUND_SUMMARY]) == {None}
    assert job.total == len(artifacts) == len(rows) + len(unqualified) + 1

    dimensions = list(
        Indicator.objects.filter(framework=round.framework, parent__isnull=True).values_list(
            "title_zh", flat=True
        )
    )
    assert len(dimensions) == 4
    for artifact in artifacts:
        path = _path(artifact)
        data = path.read_bytes()
        assert artifact.sha256 == hashlib.sha256(data).hexdigest()
        assert artifact.size == len(data)
        assert artifact.page_count == pdf_pages(path)
        assert artifact.version == result_set.version
        text = _compact(pdf_text(path))
        for page in range(1, artifact.page_count + 1):
            page_text = _compact(pdf_text(path, page))
            assert f"第{page}页/共{artifact.page_count}页" in page_text
            assert f"结果版本v{result_set.version}（已公布）" in page_text
            assert "生成时间" in page_text
            assert "厦门市人力资源和社会保障局" in page_text
        fonts = pdf_fonts(path)
        cjk = [font for font in fonts if "CJK" in font["name"]]
        assert cjk, fonts
        assert all(font["emb"] == "yes" and font["uni"] == "yes" for font in fonts), fonts
        if artifact.kind == ReportKind.ROUND_SUMMARY:
            for row in rows.values():
                assert _compact(row.school.name_zh) in text
            for title in dimensions:
                assert title in text
            assert "评分者信度" in text and "回避记录" in text
            continue
        row = rows[artifact.school_id]
        assert _compact(row.school.name_zh) in text
        assert GRADE_ZH[row.grade] in text
        if artifact.kind == ReportKind.SCHOOL_REPORT:
            for title in dimensions:
                assert title in text
            assert "评估组综合意见" in text and "办学规范" in text
            assert ("需整改事项" in text) == (artifact.school_id in unqualified)
        else:
            assert "限期整改通知书" in text
            assert "需提交的材料" in text and "整改期限" in text


def test_failed_veto_and_reasons_appear_in_the_report(small_round):
    failing = small_round.schools[1]
    result = render_document.apply(
        args=(small_round.result_set.pk, ReportKind.SCHOOL_REPORT, failing.pk)
    ).get()
    artifact = ReportArtifact.objects.get(pk=result["artifact_id"])
    text = _compact(pdf_text(_path(artifact)))
    assert "不合格" in text
    assert "否决项未通过" in text
    assert "观测点A1.1" in text
    # deduction reasons come from the expert scores, told once, evaluators unnamed
    assert any(reason in text for reason in REASONS)
    assert "专家1" not in text
    assert small_round.experts[0].username not in text


def test_a_task_run_twice_leaves_one_artifact(small_round):
    args = (small_round.result_set.pk, ReportKind.SCHOOL_REPORT, small_round.schools[0].pk)
    first = render_document.apply(args=args).get()
    second = render_document.apply(args=args).get()
    assert first["artifact_id"] == second["artifact_id"]
    assert ReportArtifact.objects.filter(result_set=small_round.result_set).count() == 1
    files = list(Path(ReportArtifact.objects.get().file.path).parent.iterdir())
    assert len(files) == 1


def test_the_database_keeps_one_artifact_per_document(small_round):
    from django.db import IntegrityError, transaction

    artifact = services.report_artifact_render(
        result_set_id=small_round.result_set.pk, kind=ReportKind.ROUND_SUMMARY
    )
    copy = ReportArtifact(
        result_set=artifact.result_set,
        kind=artifact.kind,
        school=None,
        file=artifact.file.name,
        sha256=artifact.sha256,
        size=artifact.size,
        page_count=artifact.page_count,
        version=artifact.version,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()


def test_no_notice_for_a_qualified_school(small_round):
    qualified = next(
        row.school
        for row in ResultRow.objects.filter(result_set=small_round.result_set).select_related(
            "school"
        )
        if row.grade != Grade.UNQUALIFIED
    )
    result = render_document.apply(
        args=(small_round.result_set.pk, ReportKind.RECTIFICATION_NOTICE, qualified.pk)
    ).get()
    assert "failed" in result
    assert not ReportArtifact.objects.exists()


def test_fonts_are_subset_with_harfbuzz():
    # fontTools would take 10–20 s per Chinese document (see reports.pdf).
    assert font_subsetter() == "harfbuzz"


def test_layout_and_writing_times_are_recorded(small_round):
    rendered = services.report_render(
        result_set=small_round.result_set,
        kind=ReportKind.SCHOOL_REPORT,
        school_id=small_round.schools[0].pk,
    )
    assert rendered.pages >= 2
    assert rendered.data.startswith(b"%PDF-")
    assert rendered.layout_seconds > 0 and rendered.write_seconds > 0

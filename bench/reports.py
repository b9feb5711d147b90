"""Benchmark: PDF rendering of the demo round, and a province-scale offline-score upload.

    DEBUG=1 .venv/bin/python bench/reports.py [--repeat 3] [--schools 300]
    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/xm_eval \
        .venv/bin/python bench/reports.py

Builds a throw-away database (the configured backend's test database).

PDF: seeds the 9-school demo (``xm_eval.demo.demo_seed``), scores it (every
active assignment, submitted), computes, writes the group's opinions and
publishes; then, for the school report of 厦门技师学院, times in the same run

  (a) WeasyPrint's layout, ``HTML(...).render()``, of the report's HTML;
  (b) the full PDF bytes of the same report as the task produces them
      (layout and writing, fonts subset and embedded);

and prints both medians, their ratio (target ≤ 2), the pages and which font
subsetter WeasyPrint uses (``--fonttools-baseline`` also times (b) with the
fontTools fallback WeasyPrint uses without ``libharfbuzz-subset``). Then
renders every document of the round once, as one worker does (tasks run one
after another in this process), and prints documents per second.

xlsx: a round of SCHOOLS schools × 150 observation points with one evaluator
assigned to all of them; exports the evaluator's workbook (one sheet per
school), then times importing it

  (c) unchanged: every cell read, type-checked and checked with the score
      rules, compared with the stored scores — no write (peak Python memory
      measured with tracemalloc; targets ≤ 10 s and ≤ 300 MB);
  (d) with every score new (the drafts emptied first): (c) plus SCHOOLS × 150
      scores written through ``score_set_many``, a sheet at a time, in one
      transaction; against, as the baseline in the same run, ``score_set`` one
      score at a time on BASELINE_SHEETS sheets' worth of new scores (rolled
      back), extrapolated to the whole workbook; then the audit chain verified;
  (e) with one score edited per school: (c) plus SCHOOLS sheets of one write.
"""

from __future__ import annotations

import argparse
import io
import time
import tracemalloc
from decimal import Decimal

from _setup import median_time, scratch_database

# Sheets of new scores written one by one through ``score_set``, the baseline of (d).
BASELINE_SHEETS = 2


def pdf_benchmark(repeat: int, fonttools_baseline: bool = False) -> None:
    from django.db import connection

    from reports.enums import ReportKind
    from reports.models import ReportArtifact
    from reports.pdf import font_subsetter, html_layout, html_to_pdf
    from reports.selectors import result_set_documents
    from reports.services import report_html
    from reports.tasks import render_document
    from rounds.models import Round
    from schools.models import School
    from tests.reports.helpers import compute_and_publish, score_round
    from xm_eval.demo import ROUND_NAME, demo_seed

    started = time.perf_counter()
    demo_seed()
    round = Round.objects.get(name=ROUND_NAME)
    score_round(round, qualities={"XM-09": 0.45}, veto_zero={"XM-05": "A1.1"})
    result_set = compute_and_publish(round)
    school = School.objects.get(code="XM-01")
    print(
        f"backend: {connection.vendor}; demo round: {round.schools.count()} schools, "
        f"seeded, scored, computed and published in {time.perf_counter() - started:.1f} s"
    )
    html = report_html(result_set=result_set, kind=ReportKind.SCHOOL_REPORT, school_id=school.pk)
    html_to_pdf(html)  # warm fontconfig and the font caches for both
    layout = median_time(lambda: html_layout(html), repeat)
    pages = len(html_layout(html).pages)
    full = median_time(lambda: html_to_pdf(html), repeat)
    size = len(html_to_pdf(html).data)
    print(f"school report of {school.name_zh}: {pages} pages, {size / 1024:.0f} KiB")
    print(f"(a) layout, HTML(...).render()        median {layout:7.3f} s")
    print(f"(b) full PDF bytes (layout + write)    median {full:7.3f} s")
    print(f"ratio (b)/(a): {full / layout:.2f}  (target ≤ 2); font subsetting: {font_subsetter()}")
    if fonttools_baseline:
        import logging

        import weasyprint.pdf.fonts

        logging.getLogger("fontTools").setLevel(logging.WARNING)

        # What a machine without libharfbuzz-subset does: WeasyPrint falls back to fontTools.
        subset, weasyprint.pdf.fonts.harfbuzz_subset = weasyprint.pdf.fonts.harfbuzz_subset, None
        try:
            slow = median_time(lambda: html_to_pdf(html), 1)
        finally:
            weasyprint.pdf.fonts.harfbuzz_subset = subset
        print(f"(b') the same with fontTools subsetting (no libharfbuzz-subset): {slow:7.3f} s")

    documents = result_set_documents(result_set=result_set)
    started = time.perf_counter()
    for document in documents:
        render_document.apply(args=(result_set.pk, document.kind, document.school_id)).get()
    seconds = time.perf_counter() - started
    pages = sum(ReportArtifact.objects.values_list("page_count", flat=True))
    print(
        f"whole round on one worker: {len(documents)} documents ({pages} pages) in "
        f"{seconds:.1f} s = {len(documents) / seconds:.2f} documents/s"
    )


def xlsx_benchmark(schools: int) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction
    from openpyxl import load_workbook
    from scoring_round import framework_with_150_points

    from core.audit import audit_verify
    from core.enums import Role
    from core.models import AuditEvent
    from reports.workbook import (
        FIRST_ROW,
        POINTS,
        REASON,
        score_workbook_export,
        score_workbook_import,
    )
    from rounds.enums import AssignmentStatus, GroupRole, RoundPhase
    from rounds.models import Assignment, EvaluationGroup, GroupMember, Round
    from rounds.services import round_create
    from schools.models import School
    from scoring.models import Score
    from scoring.services import score_set

    started = time.perf_counter()
    framework = framework_with_150_points()
    school_rows = School.objects.bulk_create(
        School(
            code=f"W{i:04d}",
            name_zh=f"离线评分学校{i}",
            kind="private_technical_school",
            ranking_group="private",
        )
        for i in range(schools)
    )
    round = round_create(
        actor=None,
        framework=framework,
        name="offline",
        cycle_start=2025,
        cycle_end=2027,
        schools=school_rows,
    )
    expert = get_user_model().objects.create(username="offline-expert")
    expert.groups.add(Group.objects.get(name=Role.EVALUATOR))
    group = EvaluationGroup.objects.create(round=round, name="offline")
    GroupMember.objects.create(group=group, user=expert, role=GroupRole.EVALUATOR)
    Assignment.objects.bulk_create(
        Assignment(round=round, school=s, evaluator=expert, status=AssignmentStatus.ACTIVE)
        for s in school_rows
    )
    Round.objects.filter(pk=round.pk).update(phase=RoundPhase.EXPERT_SCORING)
    round.refresh_from_db()
    # The evaluator has scored everything once (drafts), full points.
    from rounds.selectors import framework_leaves
    from scoring.models import ScoreSheet

    sheets = ScoreSheet.objects.bulk_create(
        ScoreSheet(round=round, school=s, evaluator=expert) for s in school_rows
    )
    leaves = list(framework_leaves(framework=framework))
    Score.objects.bulk_create(
        (
            Score(sheet=sheet, indicator=leaf, points=leaf.max_points, max_points=leaf.max_points)
            for sheet in sheets
            for leaf in leaves
        ),
        batch_size=20_000,
    )
    print(
        f"\nxlsx: {schools} schools × {len(leaves)} observation points = "
        f"{schools * len(leaves):,} scores (built in {time.perf_counter() - started:.1f} s)"
    )
    started = time.perf_counter()
    data = score_workbook_export(round=round, evaluator=expert, schools=school_rows)
    print(
        f"export of the evaluator's workbook: {time.perf_counter() - started:.1f} s, "
        f"{len(data) / 2**20:.1f} MiB"
    )

    started = time.perf_counter()
    summary = score_workbook_import(round=round, actor=expert, upload=io.BytesIO(data))
    unchanged_seconds = time.perf_counter() - started
    assert summary.changed == 0, summary
    # Memory in a separate run: tracemalloc slows Python down several times.
    tracemalloc.start()
    score_workbook_import(round=round, actor=expert, upload=io.BytesIO(data))
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"(c) import, nothing changed ({summary.unchanged:,} cells checked): "
        f"{unchanged_seconds:.2f} s, peak Python memory {peak / 2**20:.0f} MB "
        "(targets ≤ 10 s, ≤ 300 MB)"
    )

    total = schools * len(leaves)
    # (d) Every score new: the drafts are emptied, and the same workbook uploaded again.
    Score.objects.filter(sheet__round=round).delete()
    sample = sheets[:BASELINE_SHEETS]
    sample_scores = len(sample) * len(leaves)
    with transaction.atomic():
        started = time.perf_counter()
        for sheet in sample:
            for leaf in leaves:
                score_set(sheet=sheet, actor=expert, indicator=leaf, points=leaf.max_points)
        per_score = (time.perf_counter() - started) / sample_scores
        transaction.set_rollback(True)  # the upload below finds every score new
    events = AuditEvent.objects.count()
    started = time.perf_counter()
    summary = score_workbook_import(round=round, actor=expert, upload=io.BytesIO(data))
    new_seconds = time.perf_counter() - started
    assert summary.changed == total, summary
    assert Score.objects.filter(sheet__round=round).count() == total
    assert AuditEvent.objects.filter(action="score.set").count() == total
    writing = new_seconds - unchanged_seconds
    print(
        f"(d) import, every score new ({total:,} scores on {schools} sheets through "
        f"score_set_many): {new_seconds:.2f} s, of which writing ≈ {writing:.2f} s "
        f"((d) − (c)) = {writing / total * 1000:.3f} ms per score"
    )
    one_by_one = per_score * total
    print(
        f"    baseline in this run, score_set one by one on {sample_scores} new scores "
        f"({len(sample)} sheets): {per_score * 1000:.2f} ms per score, ≈ {one_by_one:.0f} s "
        f"for this workbook's writing; the bulk path writes {one_by_one / writing:.0f}× faster"
    )
    started = time.perf_counter()
    report = audit_verify()
    assert report.ok, report.broken
    print(
        f"    audit chain verified after the upload: {report.events:,} events "
        f"({report.events - events:,} new) in {time.perf_counter() - started:.2f} s"
    )

    workbook = load_workbook(io.BytesIO(data))
    for school in school_rows:
        sheet = workbook[school.code]
        sheet.cell(row=FIRST_ROW, column=POINTS).value = 0
        sheet.cell(row=FIRST_ROW, column=REASON).value = "线下复核扣分"
    buffer = io.BytesIO()
    workbook.save(buffer)
    edited = buffer.getvalue()
    started = time.perf_counter()
    summary = score_workbook_import(round=round, actor=expert, upload=io.BytesIO(edited))
    edited_seconds = time.perf_counter() - started
    assert summary.changed == schools, summary
    print(
        f"(e) import, one score edited per school ({schools} scores on {schools} sheets "
        f"through score_set_many): {edited_seconds:.2f} s"
    )
    changed = Score.objects.filter(sheet__round=round, points=Decimal(0)).count()
    assert changed == schools


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--schools", type=int, default=300)
    parser.add_argument("--skip-pdf", action="store_true")
    parser.add_argument("--skip-xlsx", action="store_true")
    parser.add_argument(
        "--fonttools-baseline",
        action="store_true",
        help="also time the PDF with WeasyPrint's fontTools subsetting (the slow fallback)",
    )
    args = parser.parse_args()
    import tempfile

    from django.conf import settings
    from django.test import override_settings

    media = tempfile.mkdtemp(prefix="bench-reports-")
    storages = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": media, "base_url": None},
        },
    }
    with override_settings(MEDIA_ROOT=media, STORAGES=storages), scratch_database():
        if not args.skip_pdf:
            pdf_benchmark(args.repeat, args.fonttools_baseline)
        if not args.skip_xlsx:
            xlsx_benchmark(args.schools)


if __name__ == "__main__":
    main()

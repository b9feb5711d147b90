"""A database made and filled by main at dd9d42d migrates forward with every row kept.

The test database is migrated back to that commit's schema (``OLD_LEAVES``;
apps that did not exist then go to zero), filled from
``tests/fixtures/old_main_db.json.gz`` (see ``make_old_main_db.py`` there) with
the historical models of that state, migrated forward to the newest
migrations, and compared: the row count of every table, a handful of rows
column by column, the audit chain, the content types, and the current models
reading the rows.

When a later migration moves a model to another app, rename its table or
relabel its content type, say so in ``MOVED_MODELS`` / ``RENAMED_TABLES``;
everything else is computed from the migration graph.
"""

from __future__ import annotations

import graphlib
import gzip
import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.migrations.executor import MigrationExecutor

from core.audit import audit_record, audit_verify

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "old_main_db.json.gz"
# The leaf migration of every app at dd9d42d, the commit the fixture was made on.
OLD_LEAVES = {
    "xm_eval": "0003_reminder_sent",
    "schools": "0001_initial",
    "rounds": "0004_rectification_items_extension_escalation",
    "scoring": "0004_notice_objections_supersession",
    "reports": "0001_initial",
}
# Models a later migration moved to another app: old label -> new label. Their
# tables keep their names; their content types are relabelled.
MOVED_MODELS: dict[str, str] = {
    "xm_eval.auditevent": "core.auditevent",
    "xm_eval.auditchainhead": "core.auditchainhead",
    "schools.evidence": "rounds.evidence",
    "rounds.rectification": "rectification.rectification",
    "rounds.rectificationitem": "rectification.rectificationitem",
    "scoring.noticeperiod": "publication.noticeperiod",
    "scoring.objection": "publication.objection",
}
# Tables a later migration renamed: old name -> new name.
RENAMED_TABLES: dict[str, str] = {}
# Rows compared column by column before and after (the first and the last of each).
SAMPLED = (
    "auth.user",
    "schools.school",
    "schools.evidence",
    "rounds.round",
    "rounds.rectification",
    "rounds.rectificationitem",
    "scoring.score",
    "scoring.resultset",
    "scoring.resultrow",
    "scoring.noticeperiod",
    "scoring.objection",
    "xm_eval.auditevent",
    "xm_eval.auditchainhead",
    "reports.groupopinion",
)


# ----------------------------------------------------------------- migrating


def project_apps(executor: MigrationExecutor) -> set[str]:
    """Apps with migrations whose code lives in this repository (not Django's, not a library's)."""
    root = Path(settings.BASE_DIR).resolve()
    found = set()
    for app_label, _name in executor.loader.graph.nodes:
        path = Path(global_apps.get_app_config(app_label).path).resolve()
        if path.is_relative_to(root) and ".venv" not in path.parts:
            found.add(app_label)
    return found


def old_targets(executor: MigrationExecutor) -> list[tuple[str, str | None]]:
    """dd9d42d's leaves, and zero for every project app that came later."""
    later = sorted(project_apps(executor) - set(OLD_LEAVES))
    return [*OLD_LEAVES.items(), *((app_label, None) for app_label in later)]


def old_state_nodes(executor: MigrationExecutor) -> list[tuple[str, str]]:
    """The nodes of the old state: dd9d42d's leaves, other apps (Django's) at their leaves."""
    ours = project_apps(executor)
    others = [node for node in executor.loader.graph.leaf_nodes() if node[0] not in ours]
    return [*OLD_LEAVES.items(), *others]


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


# ----------------------------------------------------------------- the fixture


def fixture_objects() -> list[dict[str, Any]]:
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as stream:
        return json.load(stream)


def dependency_order(model_map: dict[str, type[models.Model]]) -> list[str]:
    """Labels with every model after the models its foreign keys point to."""
    sorter = graphlib.TopologicalSorter()
    for label, model in model_map.items():
        targets = {
            field.related_model._meta.label_lower
            for field in model._meta.concrete_fields
            if field.is_relation and field.related_model is not model
        }
        sorter.add(label, *(target for target in targets if target in model_map))
    return list(sorter.static_order())


def _natural_group(group_model: type[models.Model], key: list[str]) -> models.Model:
    # The roles' groups exist already (post_migrate roles sync): by name.
    group, _created = group_model._default_manager.get_or_create(name=key[0])
    return group


def load_fixture(old_apps: Any, objects: list[dict[str, Any]]) -> dict[str, int]:
    """Insert the fixture's rows with the historical models; returns rows per model label.

    Primary keys are kept and foreign keys set as ids; many-to-many links are
    set once every row exists (users' groups by name). Sequences are reset
    afterwards so that new rows get new ids on PostgreSQL.
    """
    by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in objects:
        by_label[item["model"]].append(item)
    model_map = {label: old_apps.get_model(label) for label in by_label}
    group_model = old_apps.get_model("auth", "Group")
    links: list[tuple[models.Model, models.Field, list[Any]]] = []
    with transaction.atomic():
        for label in dependency_order(model_map):
            model = model_map[label]
            rows = []
            for item in by_label[label]:
                row = model(pk=item["pk"])
                for name, value in item["fields"].items():
                    field = model._meta.get_field(name)
                    if field.many_to_many:
                        links.append((row, field, value))
                    elif field.is_relation:
                        setattr(row, field.attname, value)
                    else:
                        setattr(row, field.attname, field.to_python(value))
                rows.append(row)
            # A migration may have made some of these rows already (the audit
            # chain head); the fixture's version replaces them.
            model._default_manager.filter(pk__in=[row.pk for row in rows]).delete()
            model._default_manager.bulk_create(rows, batch_size=500)
        for row, field, values in links:
            if field.related_model is group_model:
                values = [_natural_group(group_model, key) for key in values]
            elif values and isinstance(values[0], list):
                raise AssertionError(f"{field}: natural keys of {field.related_model} unexpected")
            getattr(row, field.name).set(values)
        statements = connection.ops.sequence_reset_sql(no_style(), list(model_map.values()))
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    return {label: len(items) for label, items in by_label.items()}


def old_content_types(old_apps: Any, labels: Iterable[str]) -> None:
    """Leave the content types and permissions of the project apps as dd9d42d made them.

    The test database got those of today's models from its own migrate; a
    model moved since has its content type under the new label, which an old
    database never had. Those go, and the old ones are created from the old
    state as dd9d42d's post_migrate would have.
    """
    content_type = global_apps.get_model("contenttypes", "ContentType")
    old = {model._meta.label_lower for model in old_apps.get_models()}
    stale = [
        ct.pk
        for ct in content_type.objects.filter(app_label__in=labels)
        if f"{ct.app_label}.{ct.model}" not in old
    ]
    content_type.objects.filter(pk__in=stale).delete()
    for app_label in OLD_LEAVES:
        # Only the label is read from it (the models come from ``old_apps``); today's
        # app config would do, unless the app has no models module any more.
        app_config = SimpleNamespace(label=app_label, models_module=True)
        create_permissions(app_config, verbosity=0, apps=old_apps)  # content types first


# ----------------------------------------------------------------- reading


def quoted(table: str) -> str:
    return connection.ops.quote_name(table)


def table_counts(tables: Iterable[str]) -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {quoted(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def _plain(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def row_values(table: str, pk_column: str, pk: Any) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {quoted(table)} WHERE {quoted(pk_column)} = %s",  # noqa: S608
            [pk],
        )
        found = cursor.fetchone()
        assert found is not None, f"{table} #{pk} is gone"
        names = [column[0] for column in cursor.description]
    return {name: _plain(value) for name, value in zip(names, found, strict=True)}


def old_tables(old_apps: Any, labels: Iterable[str]) -> list[str]:
    """The tables of these models, their many-to-many tables included."""
    tables = set()
    for label in labels:
        model = old_apps.get_model(label)
        tables.add(model._meta.db_table)
        for field in model._meta.local_many_to_many:
            tables.add(field.remote_field.through._meta.db_table)
    return sorted(tables)


def content_type_rows(app_labels: Iterable[str]) -> dict[int, tuple[str, str]]:
    content_type = global_apps.get_model("contenttypes", "ContentType")
    return {
        pk: (app_label, model)
        for pk, app_label, model in content_type.objects.filter(
            app_label__in=app_labels
        ).values_list("pk", "app_label", "model")
    }


# ----------------------------------------------------------------- the test


@pytest.mark.django_db(transaction=True)
def test_a_database_of_main_at_dd9d42d_migrates_forward_with_every_row_kept():
    objects = fixture_objects()
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(old_targets(executor))
        # Rebuilt: the graph's applied state changed under the first one.
        executor = MigrationExecutor(connection)
        everything_now = project_apps(executor)
        old_apps = executor.loader.project_state(old_state_nodes(executor)).apps

        old_content_types(old_apps, everything_now)
        loaded = load_fixture(old_apps, objects)
        tables = old_tables(old_apps, loaded)
        counts_before = table_counts(tables)
        for label, count in loaded.items():
            assert counts_before[old_apps.get_model(label)._meta.db_table] == count, label
        samples_before = {}
        for label in SAMPLED:
            model = old_apps.get_model(label)
            pks = [item["pk"] for item in objects if item["model"] == label]
            assert pks, f"the fixture has no {label}"
            for pk in {pks[0], pks[-1]}:
                samples_before[label, pk] = row_values(
                    model._meta.db_table, model._meta.pk.column, pk
                )
        content_types_before = content_type_rows(OLD_LEAVES)
        permissions = global_apps.get_model("auth", "Permission").objects
        permissions_before = dict(
            permissions.filter(content_type_id__in=content_types_before).values_list(
                "pk", "content_type_id"
            )
        )

        executor.migrate(executor.loader.graph.leaf_nodes())
        executor = MigrationExecutor(connection)
        assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
        new_apps = executor.loader.project_state().apps

        counts_after = table_counts(RENAMED_TABLES.get(table, table) for table in tables)
        assert {
            table: counts_after[RENAMED_TABLES.get(table, table)] for table in tables
        } == counts_before
        for (label, pk), before in samples_before.items():
            model = old_apps.get_model(label)
            table = RENAMED_TABLES.get(model._meta.db_table, model._meta.db_table)
            after = row_values(table, model._meta.pk.column, pk)
            assert {column: after.get(column) for column in before} == before, (label, pk)

        report = audit_verify()
        assert report.ok, report.broken
        assert report.events == loaded["xm_eval.auditevent"]

        # Every old content type is still there (relabelled where its model moved),
        # and so is every permission, on the same content type.
        content_types_after = content_type_rows(
            {*OLD_LEAVES, *(label.split(".")[0] for label in MOVED_MODELS.values())}
        )
        for pk, (app_label, model_name) in content_types_before.items():
            moved = MOVED_MODELS.get(f"{app_label}.{model_name}", f"{app_label}.{model_name}")
            assert content_types_after.get(pk) == tuple(moved.split(".")), (pk, moved)
        assert (
            dict(permissions.filter(pk__in=permissions_before).values_list("pk", "content_type_id"))
            == permissions_before
        )

        # The final state's models, and today's code, read every moved row.
        for label, count in loaded.items():
            new_label = MOVED_MODELS.get(label, label)
            assert new_apps.get_model(new_label)._default_manager.count() == count, label
            assert len(global_apps.get_model(new_label)._default_manager.all()) == count, label
        evidence_model = global_apps.get_model(
            MOVED_MODELS.get("schools.evidence", "schools.evidence")
        )
        evidence = evidence_model.objects.select_related("school", "round", "indicator")
        fields = ("school", "indicator", "sha256", "original_name")
        assert [
            (e.pk, e.school_id, e.indicator_id, e.sha256, e.original_name)
            for e in evidence.order_by("pk")
        ] == [
            (item["pk"], *(item["fields"][name] for name in fields))
            for item in objects
            if item["model"] == "schools.evidence"
        ]
        assert sorted({(e.school.code, e.indicator.code) for e in evidence}) == [
            ("XM-02", "A1.1"),
            ("XM-02", "A1.2"),
            ("XM-08", "A1.1"),
        ]

        # New rows get new ids (sequences on PostgreSQL) and extend the chain.
        school = global_apps.get_model("schools", "School").objects.order_by("pk").first()
        audit_record(actor=None, action="migration.test", obj=school)
        report = audit_verify()
        assert report.ok, report.broken
        assert report.events == loaded["xm_eval.auditevent"] + 1
    finally:
        migrate_to_latest()

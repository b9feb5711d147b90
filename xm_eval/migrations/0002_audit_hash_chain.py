"""The audit trail becomes a hash chain, append-only on PostgreSQL."""

from django.db import migrations, models

# The hash function is the application's own, so a chain built here verifies
# with audit_verify afterwards.
import core.models
from core.audit import GENESIS_HASH, _stored_values, event_hash

IMMUTABLE_SQL = """
CREATE OR REPLACE FUNCTION xm_eval_audit_event_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'xm_eval audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS xm_eval_audit_event_immutable ON xm_eval_auditevent;
CREATE TRIGGER xm_eval_audit_event_immutable
    BEFORE UPDATE OR DELETE ON xm_eval_auditevent
    FOR EACH ROW EXECUTE FUNCTION xm_eval_audit_event_immutable();
"""
DROP_SQL = """
DROP TRIGGER IF EXISTS xm_eval_audit_event_immutable ON xm_eval_auditevent;
DROP FUNCTION IF EXISTS xm_eval_audit_event_immutable();
"""


def chain_existing_events(apps, schema_editor):
    AuditEvent = apps.get_model("xm_eval", "AuditEvent")
    AuditChainHead = apps.get_model("xm_eval", "AuditChainHead")
    previous, sequence = GENESIS_HASH, 0
    for event in AuditEvent.objects.order_by("created_at", "id"):
        sequence += 1
        event.sequence = sequence
        event.previous_hash = previous
        event.hash = event_hash(_stored_values(event))
        event.save(update_fields=["sequence", "previous_hash", "hash"])
        previous = event.hash
    AuditChainHead.objects.update_or_create(pk=1, defaults={"sequence": sequence,
                                                            "hash": previous})


def install_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(IMMUTABLE_SQL, params=None)


def remove_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("xm_eval", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("sequence", models.PositiveBigIntegerField(default=0)),
                ("hash", models.CharField(max_length=64)),
            ],
            options={
                "verbose_name": "audit chain head",
                "verbose_name_plural": "audit chain head",
            },
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="before",
            field=core.models.CanonicalJSONField(blank=True, null=True, verbose_name="before"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="after",
            field=core.models.CanonicalJSONField(blank=True, null=True, verbose_name="after"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="sequence",
            field=models.PositiveBigIntegerField(null=True, verbose_name="sequence"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="previous_hash",
            field=models.CharField(default="", max_length=64, verbose_name="previous hash"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(null=True, max_length=64, verbose_name="hash"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="created_at",
            field=models.DateTimeField(db_index=True, verbose_name="time (UTC)"),
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="sequence",
            field=models.PositiveBigIntegerField(unique=True, verbose_name="sequence"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(max_length=64, unique=True, verbose_name="hash"),
        ),
        migrations.AlterModelOptions(
            name="auditevent",
            options={
                "ordering": ["-sequence"],
                "verbose_name": "audit event",
                "verbose_name_plural": "audit events",
            },
        ),
        migrations.RunPython(install_trigger, remove_trigger),
    ]

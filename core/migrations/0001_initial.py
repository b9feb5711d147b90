"""The audit chain's models, moved here from xm_eval with their tables."""

import core.models
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from core.contenttypes import relabel_content_types


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('xm_eval', '0003_reminder_sent'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        # The table stays where it is: only Django's idea of the model moves.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AuditChainHead',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('sequence', models.PositiveBigIntegerField(default=0)),
                        ('hash', models.CharField(max_length=64)),
                    ],
                    options={
                        'verbose_name': 'audit chain head',
                        'verbose_name_plural': 'audit chain head',
                        'db_table': 'xm_eval_auditchainhead',
                    },
                ),
                migrations.CreateModel(
                    name='AuditEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('sequence', models.PositiveBigIntegerField(unique=True, verbose_name='sequence')),
                        ('created_at', models.DateTimeField(db_index=True, verbose_name='time (UTC)')),
                        ('action', models.CharField(db_index=True, max_length=64, verbose_name='action')),
                        ('object_type', models.CharField(max_length=64, verbose_name='object type')),
                        ('object_id', models.CharField(max_length=64, verbose_name='object id')),
                        ('object_repr', models.CharField(blank=True, max_length=255, verbose_name='object')),
                        ('round_id', models.BigIntegerField(blank=True, db_index=True, null=True, verbose_name='round')),
                        ('school_id', models.BigIntegerField(blank=True, db_index=True, null=True, verbose_name='school')),
                        ('before', core.models.CanonicalJSONField(blank=True, null=True, verbose_name='before')),
                        ('after', core.models.CanonicalJSONField(blank=True, null=True, verbose_name='after')),
                        ('previous_hash', models.CharField(max_length=64, verbose_name='previous hash')),
                        ('hash', models.CharField(max_length=64, unique=True, verbose_name='hash')),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='audit_events', to=settings.AUTH_USER_MODEL, verbose_name='actor')),
                    ],
                    options={
                        'verbose_name': 'audit event',
                        'verbose_name_plural': 'audit events',
                        'db_table': 'xm_eval_auditevent',
                        'ordering': ['-sequence'],
                        'indexes': [models.Index(fields=['object_type', 'object_id'], name='xm_eval_aud_object__6783ae_idx')],
                    },
                ),
            ],
        ),
        relabel_content_types('xm_eval', 'core', ('auditevent', 'auditchainhead')),
    ]

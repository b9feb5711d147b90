"""Rectification, moved here from rounds with its tables."""

import django.db.models.deletion
import rectification.models
from django.conf import settings
from django.db import migrations, models

from core.contenttypes import relabel_content_types


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('rounds', '0005_evidence_moved_here'),
        ('scoring', '0004_notice_objections_supersession'),
        ('schools', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        # The table stays where it is: only Django's idea of the model moves.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Rectification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('deadline', models.DateField(verbose_name='deadline')),
                        ('status', models.CharField(choices=[('notified', 'Notified'), ('submitted', 'Report submitted'), ('passed', 'Re-check passed'), ('failed', 'Re-check failed'), ('escalated', 'Licence revocation recommended'), ('withdrawn', 'Withdrawn (the school is no longer unqualified)')], default='notified', max_length=16, verbose_name='status')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                        ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='reports submitted')),
                        ('submitted_at', models.DateTimeField(blank=True, null=True, verbose_name='report submitted at')),
                        ('failures', models.PositiveSmallIntegerField(default=0, verbose_name='failed re-checks')),
                        ('rechecked_at', models.DateTimeField(blank=True, null=True, verbose_name='re-checked at')),
                        ('recheck_comment', models.TextField(blank=True, verbose_name='re-check opinion')),
                        ('extended_deadline', models.DateField(blank=True, null=True, verbose_name='extended deadline')),
                        ('extension_reason', models.TextField(blank=True, verbose_name='reason for the extension')),
                        ('extensions_used', models.PositiveSmallIntegerField(default=0, verbose_name='extensions granted')),
                        ('extended_at', models.DateTimeField(blank=True, null=True, verbose_name='extended at')),
                        ('escalated_at', models.DateTimeField(blank=True, null=True, verbose_name='escalated at')),
                        ('escalation_reason', models.CharField(blank=True, choices=[('second_failure', 'The re-check failed a second time'), ('deadline_missed', 'No rectification report by the deadline')], max_length=32, verbose_name='reason for escalation')),
                        ('closing_note', models.TextField(blank=True, verbose_name='note')),
                        ('extended_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='extended by')),
                        ('rechecked_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='re-checked by')),
                        ('result_set', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='rectifications', to='scoring.resultset', verbose_name='result set')),
                        ('round', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='rectifications', to='rounds.round', verbose_name='round')),
                        ('school', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='rectifications', to='schools.school', verbose_name='school')),
                        ('submitted_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='report submitted by')),
                    ],
                    options={
                        'verbose_name': 'rectification',
                        'verbose_name_plural': 'rectifications',
                        'db_table': 'rounds_rectification',
                        'ordering': ['round', 'school'],
                    },
                ),
                migrations.CreateModel(
                    name='RectificationItem',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.CharField(max_length=32, verbose_name='code')),
                        ('kind', models.CharField(choices=[('veto_failed', 'Failed veto item'), ('below_mark', 'Observation point below the rectification mark'), ('overall', 'Overall result')], max_length=16, verbose_name='kind')),
                        ('order', models.PositiveIntegerField(default=0, verbose_name='order')),
                        ('score_before', models.DecimalField(blank=True, decimal_places=2, max_digits=7, null=True, verbose_name='score in the result')),
                        ('max_points', models.DecimalField(decimal_places=2, max_digits=7, verbose_name='maximum points')),
                        ('pass_mark', models.DecimalField(decimal_places=2, max_digits=7, verbose_name='re-check pass mark')),
                        ('report', models.TextField(blank=True, verbose_name='rectification report')),
                        ('evidence', models.FileField(blank=True, max_length=255, upload_to=rectification.models.rectification_evidence_upload_to, verbose_name='evidence')),
                        ('evidence_name', models.CharField(blank=True, max_length=255, verbose_name='evidence file name')),
                        ('evidence_content_type', models.CharField(blank=True, max_length=128, verbose_name='evidence type')),
                        ('evidence_size', models.PositiveBigIntegerField(null=True, verbose_name='evidence size (bytes)')),
                        ('evidence_sha256', models.CharField(blank=True, max_length=64, verbose_name='evidence SHA-256')),
                        ('reported_at', models.DateTimeField(blank=True, null=True, verbose_name='reported at')),
                        ('recheck_points', models.DecimalField(blank=True, decimal_places=2, max_digits=7, null=True, verbose_name='re-check score')),
                        ('recheck_passed', models.BooleanField(null=True, verbose_name='re-check passed')),
                        ('indicator', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='rounds.indicator', verbose_name='observation point')),
                        ('rectification', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='items', to='rectification.rectification', verbose_name='rectification')),
                    ],
                    options={
                        'verbose_name': 'rectification item',
                        'verbose_name_plural': 'rectification items',
                        'db_table': 'rounds_rectificationitem',
                        'ordering': ['rectification', 'order', 'code'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='rectification',
                    constraint=models.UniqueConstraint(fields=('round', 'school'), name='rectification_unique'),
                ),
                migrations.AddConstraint(
                    model_name='rectification',
                    constraint=models.CheckConstraint(condition=models.Q(('status__in', ['notified', 'submitted', 'passed', 'failed', 'escalated', 'withdrawn'])), name='rectification_status_valid'),
                ),
                migrations.AddConstraint(
                    model_name='rectification',
                    constraint=models.CheckConstraint(condition=models.Q(('extensions_used__lte', 1)), name='rectification_one_extension'),
                ),
                migrations.AddConstraint(
                    model_name='rectification',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('extended_deadline__isnull', True), ('extension_reason', ''), ('extensions_used', 0)), models.Q(('extended_deadline__gt', models.F('deadline')), ('extensions_used', 1), models.Q(('extension_reason', ''), _negated=True)), _connector='OR'), name='rectification_extension_complete'),
                ),
                migrations.AddConstraint(
                    model_name='rectification',
                    constraint=models.CheckConstraint(condition=models.Q(('failures__lte', 2)), name='rectification_failures_lte_2'),
                ),
                migrations.AddConstraint(
                    model_name='rectification',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'escalated'), ('escalated_at__isnull', False), ('escalation_reason__in', ['second_failure', 'deadline_missed'])), models.Q(models.Q(('status', 'escalated'), _negated=True), ('escalated_at__isnull', True), ('escalation_reason', '')), _connector='OR'), name='rectification_escalation_complete'),
                ),
                migrations.AddConstraint(
                    model_name='rectificationitem',
                    constraint=models.UniqueConstraint(fields=('rectification', 'code'), name='rectification_item_unique'),
                ),
                migrations.AddConstraint(
                    model_name='rectificationitem',
                    constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['veto_failed', 'below_mark', 'overall'])), name='rectification_item_kind_valid'),
                ),
                migrations.AddConstraint(
                    model_name='rectificationitem',
                    constraint=models.CheckConstraint(condition=models.Q(('pass_mark__gte', 0), ('pass_mark__lte', models.F('max_points'))), name='rectification_item_pass_mark_in_range'),
                ),
                migrations.AddConstraint(
                    model_name='rectificationitem',
                    constraint=models.CheckConstraint(condition=models.Q(('recheck_points__isnull', True), models.Q(('recheck_points__gte', 0), ('recheck_points__lte', models.F('max_points'))), _connector='OR'), name='rectification_item_recheck_in_range'),
                ),
                migrations.AddConstraint(
                    model_name='rectificationitem',
                    constraint=models.CheckConstraint(condition=models.Q(('evidence_sha256', ''), ('evidence_sha256__regex', '^[0-9a-f]{64}$'), _connector='OR'), name='rectification_item_sha256_hex'),
                ),
            ],
        ),
        relabel_content_types('rounds', 'rectification', ('rectification', 'rectificationitem')),
    ]

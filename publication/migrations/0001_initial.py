"""The public notice and objections, moved here from scoring with their tables."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from core.contenttypes import relabel_content_types


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('rounds', '0004_rectification_items_extension_escalation'),
        ('schools', '0001_initial'),
        ('scoring', '0004_notice_objections_supersession'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        # The table stays where it is: only Django's idea of the model moves.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='NoticePeriod',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('starts_at', models.DateTimeField(verbose_name='starts at')),
                        ('ends_at', models.DateTimeField(verbose_name='ends at')),
                        ('opened_at', models.DateTimeField(verbose_name='opened at')),
                        ('opened_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='opened by')),
                        ('result_set', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='notice', to='scoring.resultset', verbose_name='result set')),
                    ],
                    options={
                        'verbose_name': 'public notice',
                        'verbose_name_plural': 'public notices',
                        'db_table': 'scoring_noticeperiod',
                        'ordering': ['-starts_at'],
                    },
                ),
                migrations.CreateModel(
                    name='Objection',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('content', models.TextField(verbose_name='objection')),
                        ('tracking_code', models.CharField(max_length=32, unique=True, verbose_name='tracking code')),
                        ('status', models.CharField(choices=[('received', 'Received'), ('under_review', 'Under review'), ('upheld', 'Upheld'), ('dismissed', 'Dismissed')], default='received', max_length=16, verbose_name='status')),
                        ('objector_kind', models.CharField(choices=[('person', 'Person (real name)'), ('organisation', 'Organisation (with its seal)')], default='person', max_length=16, verbose_name='objector')),
                        ('identity_encrypted', models.TextField(verbose_name='identity (encrypted)')),
                        ('seal_encrypted', models.BinaryField(blank=True, null=True, verbose_name='seal (encrypted)')),
                        ('seal_content_type', models.CharField(blank=True, max_length=128, verbose_name='seal file type')),
                        ('filed_at', models.DateTimeField(verbose_name='filed at')),
                        ('response', models.TextField(blank=True, verbose_name='response')),
                        ('responded_at', models.DateTimeField(blank=True, null=True, verbose_name='responded at')),
                        ('handled_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='handled by')),
                        ('indicator', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='rounds.indicator', verbose_name='indicator concerned')),
                        ('notice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='objections', to='publication.noticeperiod', verbose_name='public notice')),
                        ('responded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='responded by')),
                        ('result_set_after', models.ForeignKey(blank=True, help_text='The new version computed after the objection was upheld.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='scoring.resultset', verbose_name='corrected version')),
                        ('school', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='schools.school', verbose_name='school concerned')),
                    ],
                    options={
                        'verbose_name': 'objection',
                        'verbose_name_plural': 'objections',
                        'db_table': 'scoring_objection',
                        'ordering': ['-filed_at', '-id'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='noticeperiod',
                    constraint=models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('starts_at'))), name='notice_period_ordered'),
                ),
                migrations.AddIndex(
                    model_name='objection',
                    index=models.Index(fields=['notice', 'status'], name='scoring_obj_notice__109f22_idx'),
                ),
                migrations.AddConstraint(
                    model_name='objection',
                    constraint=models.CheckConstraint(condition=models.Q(('status__in', ['received', 'under_review', 'upheld', 'dismissed'])), name='objection_status_valid'),
                ),
                migrations.AddConstraint(
                    model_name='objection',
                    constraint=models.CheckConstraint(condition=models.Q(('objector_kind__in', ['person', 'organisation'])), name='objection_objector_kind_valid'),
                ),
                migrations.AddConstraint(
                    model_name='objection',
                    constraint=models.CheckConstraint(condition=models.Q(('content', ''), _negated=True), name='objection_has_content'),
                ),
                migrations.AddConstraint(
                    model_name='objection',
                    constraint=models.CheckConstraint(condition=models.Q(('identity_encrypted', ''), _negated=True), name='objection_has_identity'),
                ),
                migrations.AddConstraint(
                    model_name='objection',
                    constraint=models.CheckConstraint(condition=models.Q(('status__in', ['received', 'under_review']), models.Q(models.Q(('response', ''), _negated=True), ('responded_at__isnull', False), ('responded_by__isnull', False)), _connector='OR'), name='objection_answered_has_response'),
                ),
                migrations.AddConstraint(
                    model_name='objection',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'upheld'), _negated=True), ('result_set_after__isnull', False), _connector='OR'), name='objection_upheld_has_new_version'),
                ),
                migrations.AddConstraint(
                    model_name='objection',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('objector_kind', 'organisation'), _negated=True), ('seal_encrypted__isnull', False), _connector='OR'), name='objection_organisation_has_seal'),
                ),
            ],
        ),
        relabel_content_types('scoring', 'publication', ('noticeperiod', 'objection')),
    ]

"""Evidence moved here from schools with its table: it belongs to a round and an indicator."""

import django.db.models.deletion
import rounds.models
from django.conf import settings
from django.db import migrations, models

from core.contenttypes import relabel_content_types


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('rounds', '0004_rectification_items_extension_escalation'),
        ('schools', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        # The table stays where it is: only Django's idea of the model moves.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Evidence',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('file', models.FileField(max_length=255, upload_to=rounds.models.evidence_upload_to, verbose_name='file')),
                        ('original_name', models.CharField(max_length=255, verbose_name='original file name')),
                        ('content_type', models.CharField(blank=True, max_length=128, verbose_name='content type')),
                        ('size', models.PositiveBigIntegerField(verbose_name='size (bytes)')),
                        ('sha256', models.CharField(max_length=64, verbose_name='SHA-256')),
                        ('version', models.PositiveIntegerField(default=1, verbose_name='version')),
                        ('uploaded_at', models.DateTimeField(auto_now_add=True, verbose_name='uploaded at')),
                        ('indicator', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='evidence', to='rounds.indicator', verbose_name='indicator')),
                        ('round', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='evidence', to='rounds.round', verbose_name='round')),
                        ('school', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='evidence', to='schools.school', verbose_name='school')),
                        ('uploaded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='uploaded by')),
                    ],
                    options={
                        'verbose_name': 'evidence',
                        'verbose_name_plural': 'evidence',
                        'db_table': 'schools_evidence',
                        'ordering': ['school', 'indicator', 'original_name', '-version'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='evidence',
                    constraint=models.UniqueConstraint(fields=('school', 'round', 'indicator', 'sha256'), name='evidence_no_duplicate_file'),
                ),
                migrations.AddConstraint(
                    model_name='evidence',
                    constraint=models.UniqueConstraint(fields=('school', 'round', 'indicator', 'original_name', 'version'), name='evidence_version_unique'),
                ),
                migrations.AddConstraint(
                    model_name='evidence',
                    constraint=models.CheckConstraint(condition=models.Q(('version__gte', 1)), name='evidence_version_gte_1'),
                ),
                migrations.AddConstraint(
                    model_name='evidence',
                    constraint=models.CheckConstraint(condition=models.Q(('sha256__regex', '^[0-9a-f]{64}$')), name='evidence_sha256_hex'),
                ),
            ],
        ),
        relabel_content_types('schools', 'rounds', ('evidence',)),
    ]

"""Rectification now belongs to its own app (rectification 0001); its tables stay."""

import django.db.models.deletion
import rounds.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ('rounds', '0005_evidence_moved_here'),
        ('rectification', '0001_initial'),
    ]

    operations = [
        # The table stays where it is: only Django's idea of the model moves.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='rectificationitem',
                    name='rectification',
                ),
                migrations.RemoveField(
                    model_name='rectificationitem',
                    name='indicator',
                ),
                migrations.DeleteModel(
                    name='Rectification',
                ),
                migrations.DeleteModel(
                    name='RectificationItem',
                ),
            ],
        ),
    ]

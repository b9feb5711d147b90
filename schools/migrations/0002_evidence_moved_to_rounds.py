"""Evidence now belongs to rounds (rounds 0005); its table stays."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ('schools', '0001_initial'),
        ('rounds', '0005_evidence_moved_here'),
    ]

    operations = [
        # The table stays where it is: only Django's idea of the model moves.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='Evidence',
                ),
            ],
        ),
    ]

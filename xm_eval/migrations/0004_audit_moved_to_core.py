"""The audit chain's models now belong to core (core 0001); their tables stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ('xm_eval', '0003_reminder_sent'),
        ('core', '0001_initial'),
    ]

    operations = [
        # The table stays where it is: only Django's idea of the model moves.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='AuditChainHead',
                ),
                migrations.DeleteModel(
                    name='AuditEvent',
                ),
            ],
        ),
    ]

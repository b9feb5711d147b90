"""The public notice and objections now belong to publication (publication 0001)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ('scoring', '0004_notice_objections_supersession'),
        ('publication', '0001_initial'),
    ]

    operations = [
        # The table stays where it is: only Django's idea of the model moves.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='objection',
                    name='notice',
                ),
                migrations.RemoveField(
                    model_name='objection',
                    name='handled_by',
                ),
                migrations.RemoveField(
                    model_name='objection',
                    name='indicator',
                ),
                migrations.RemoveField(
                    model_name='objection',
                    name='responded_by',
                ),
                migrations.RemoveField(
                    model_name='objection',
                    name='result_set_after',
                ),
                migrations.RemoveField(
                    model_name='objection',
                    name='school',
                ),
                migrations.DeleteModel(
                    name='NoticePeriod',
                ),
                migrations.DeleteModel(
                    name='Objection',
                ),
            ],
        ),
    ]

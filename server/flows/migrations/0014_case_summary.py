# A case keeps the values its package's [summary] names (issue 14, item 2): the inboxes show
# what each job is about without reading the engine state. Cases started before keep an
# empty summary until their next step writes it.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('flows', '0013_case_suspension'),
    ]

    operations = [
        migrations.AddField(
            model_name='processinstance',
            name='summary',
            field=models.JSONField(blank=True, default=dict),
        ),
    ]

import courseware.embeds
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('courseware', '0004_remove_submission'),
    ]

    operations = [
        migrations.AlterField(
            model_name='lesson',
            name='embed',
            field=models.CharField(blank=True, choices=courseware.embeds.choices, max_length=50),
        ),
    ]

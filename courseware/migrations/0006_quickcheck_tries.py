from django.db import migrations, models


def keys_and_tries(apps, schema_editor):
    """Give existing options keys and number existing responses as tries, keeping every row.

    Responses stored the indexes of the options chosen; they now store the options' keys.
    """
    QuickCheck = apps.get_model("courseware", "QuickCheck")
    QuickCheckOption = apps.get_model("courseware", "QuickCheckOption")
    QuickCheckResponse = apps.get_model("courseware", "QuickCheckResponse")
    for check in QuickCheck.objects.all():
        options = list(QuickCheckOption.objects.filter(quick_check=check).order_by("order", "pk"))
        keys = []
        for index, option in enumerate(options):
            option.key = f"option-{index + 1}"
            keys.append(option.key)
        QuickCheckOption.objects.bulk_update(options, ["key"])
        responses = QuickCheckResponse.objects.filter(quick_check=check).order_by(
            "learner_id", "created_at", "pk"
        )
        tries: dict[int, int] = {}
        changed = []
        for response in responses:
            tries[response.learner_id] = tries.get(response.learner_id, 0) + 1
            response.attempt = tries[response.learner_id]
            response.selected = [
                keys[index] for index in response.selected
                if isinstance(index, int) and 0 <= index < len(keys)
            ]
            changed.append(response)
        QuickCheckResponse.objects.bulk_update(changed, ["attempt", "selected"])


class Migration(migrations.Migration):

    dependencies = [
        ("courseware", "0005_alter_lesson_embed"),
    ]

    operations = [
        migrations.AddField(
            model_name="quickcheck",
            name="hint",
            field=models.TextField(
                blank=True, help_text="Shown after a wrong first try, before the second."
            ),
        ),
        migrations.AddField(
            model_name="quickcheckoption",
            name="key",
            field=models.SlugField(default="", max_length=40),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="quickcheckresponse",
            name="attempt",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AlterModelOptions(
            name="quickcheckresponse",
            options={"ordering": ["quick_check", "learner", "attempt"]},
        ),
        migrations.RunPython(keys_and_tries, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="quickcheckoption",
            constraint=models.UniqueConstraint(
                fields=("quick_check", "key"), name="one_option_per_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="quickcheckresponse",
            constraint=models.UniqueConstraint(
                fields=("learner", "quick_check", "attempt"), name="one_response_per_try"
            ),
        ),
        migrations.AddConstraint(
            model_name="quickcheckresponse",
            constraint=models.CheckConstraint(
                condition=models.Q(attempt__gte=1), name="quick_check_attempt_from_one"
            ),
        ),
    ]

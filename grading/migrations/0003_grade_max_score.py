from decimal import Decimal

from django.db import migrations, models


def record_maximums(apps, schema_editor):
    """Give every grade the maximum of its question or drill attempt.

    A grade already above that maximum (possible before the maximum was enforced) keeps its
    score, and its own score becomes its recorded maximum: no grade is rewritten by a migration.
    """
    Grade = apps.get_model("grading", "Grade")
    grades = Grade.objects.select_related("submission__question", "submission__attempt")
    for grade in grades.iterator():
        submission = grade.submission
        if submission.question_id:
            maximum = Decimal(submission.question.max_score)
        else:
            maximum = Decimal(submission.attempt.total)
        grade.max_score = max(maximum, grade.score)
        fields = ["max_score"]
        if grade.released and grade.released_at is None:
            grade.released_at = grade.updated_at
            fields.append("released_at")
        grade.save(update_fields=fields)


class Migration(migrations.Migration):
    dependencies = [
        ("grading", "0002_submission"),
    ]

    operations = [
        migrations.AddField(
            model_name="grade",
            name="max_score",
            field=models.DecimalField(decimal_places=2, max_digits=6, null=True, editable=False),
        ),
        migrations.AddField(
            model_name="gradechange",
            name="old_released",
            field=models.BooleanField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="gradechange",
            name="new_released",
            field=models.BooleanField(blank=True, null=True),
        ),
        migrations.RunPython(record_maximums, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="grade",
            name="max_score",
            field=models.DecimalField(decimal_places=2, max_digits=6, editable=False),
        ),
        migrations.AlterField(
            model_name="gradechange",
            name="action",
            field=models.CharField(
                choices=[
                    ("created", "Graded"),
                    ("edited", "Edited"),
                    ("group", "Graded with identical answers"),
                    ("released", "Released"),
                    ("regraded", "Regraded on request"),
                    ("admin", "Edited in the admin"),
                    ("corrected", "Grade corrected"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterConstraint(
            model_name="grade",
            name="grade_score_not_negative",
            constraint=models.CheckConstraint(
                condition=models.Q(score__gte=0), name="grade_score_not_negative",
                violation_error_message="The score cannot be below 0.",
            ),
        ),
        migrations.AddConstraint(
            model_name="grade",
            constraint=models.CheckConstraint(
                condition=models.Q(score__lte=models.F("max_score")),
                name="grade_score_within_maximum",
                violation_error_message="The score cannot be above the maximum.",
            ),
        ),
        migrations.AddConstraint(
            model_name="grade",
            constraint=models.CheckConstraint(
                condition=models.Q(released=False) | models.Q(released_at__isnull=False),
                name="grade_released_has_time",
                violation_error_message="A released grade records when it was released.",
            ),
        ),
    ]

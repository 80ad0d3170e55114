from django.db import migrations


def add_ids(apps, schema_editor):
    """Give every rubric criterion an id, numbered in today's order (the order grades name)."""
    Question = apps.get_model("courseware", "Question")
    for question in Question.objects.all():
        rubric = list(question.rubric or [])
        if all(isinstance(c, dict) and c.get("id") for c in rubric):
            continue
        question.rubric = [
            {"id": f"c{number}", **{k: v for k, v in c.items() if k != "id"}}
            for number, c in enumerate(rubric, start=1)
        ]
        question.save(update_fields=["rubric"])


def remove_ids(apps, schema_editor):
    Question = apps.get_model("courseware", "Question")
    for question in Question.objects.all():
        question.rubric = [{k: v for k, v in c.items() if k != "id"} for c in question.rubric]
        question.save(update_fields=["rubric"])


class Migration(migrations.Migration):
    dependencies = [("courseware", "0008_problems_with_own_numbers")]

    operations = [migrations.RunPython(add_ids, remove_ids)]

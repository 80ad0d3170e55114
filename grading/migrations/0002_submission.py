import django.db.models.deletion
from django.conf import settings
from django.core.management.color import no_style
from django.db import migrations, models

OLD_TABLE = "courseware_submission"
# Instructors granted these on the old model keep them on the new one.
PERMISSIONS = ["grade_submission", "view_all_submissions", "view_submission", "change_submission",
               "add_submission", "delete_submission"]


def copy_submissions(apps, schema_editor):
    """Every hand-in, with its id, moves from courseware's table into grading's."""
    connection = schema_editor.connection
    Submission = apps.get_model("grading", "Submission")
    new_table = Submission._meta.db_table
    with connection.cursor() as cursor:
        if OLD_TABLE not in connection.introspection.table_names(cursor):
            return
        old = {c.name for c in connection.introspection.get_table_description(cursor, OLD_TABLE)}
        new = {c.name for c in connection.introspection.get_table_description(cursor, new_table)}
        columns = ", ".join(schema_editor.quote_name(name) for name in sorted(old & new))
        cursor.execute(
            f"INSERT INTO {schema_editor.quote_name(new_table)} ({columns}) "
            f"SELECT {columns} FROM {schema_editor.quote_name(OLD_TABLE)}"
        )
        # Rows came with their ids: the next new id must follow the largest of them.
        for statement in connection.ops.sequence_reset_sql(no_style(), [Submission]):
            cursor.execute(statement)

    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    old_type = ContentType.objects.filter(app_label="courseware", model="submission").first()
    if old_type is None:
        return
    new_type, _ = ContentType.objects.get_or_create(app_label="grading", model="submission")
    for permission in Permission.objects.filter(content_type=old_type, codename__in=PERMISSIONS):
        moved, _ = Permission.objects.get_or_create(
            content_type=new_type, codename=permission.codename,
            defaults={"name": permission.name},
        )
        moved.user_set.add(*permission.user_set.all())
        moved.group_set.add(*permission.group_set.all())


class Migration(migrations.Migration):
    """Hand-ins (submissions) belong to grading: the model and every row move here from
    courseware, ids kept, before courseware drops its table."""

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('courseware', '0003_content_source'),
        ('drills', '0002_attempt_learner_best'),
        ('grading', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]
    run_before = [
        ('courseware', '0004_remove_submission'),
    ]

    operations = [
        migrations.CreateModel(
            name='Submission',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('answer', models.TextField()),
                ('payload', models.JSONField(blank=True, default=dict)),
                ('status', models.CharField(choices=[('awaiting', 'Awaiting grading'), ('graded', 'Graded'), ('returned', 'Returned')], default='awaiting', max_length=20)),
                ('fingerprint', models.CharField(blank=True, db_index=True, editable=False, max_length=64)),
                ('token', models.UUIDField(blank=True, editable=False, null=True, unique=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('attempt', models.OneToOneField(blank=True, help_text='A drill attempt handed in for an instructor to review.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='submission', to='drills.attempt')),
                ('learner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='submissions', to=settings.AUTH_USER_MODEL)),
                ('question', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='submissions', to='courseware.question')),
            ],
            options={
                'ordering': ['-created_at'],
                'permissions': [('grade_submission', "Can grade learners' submissions"), ('view_all_submissions', "Can see every learner's submissions")],
            },
        ),
        migrations.AddConstraint(
            model_name='submission',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('attempt__isnull', True), ('question__isnull', False)), models.Q(('attempt__isnull', False), ('question__isnull', True)), _connector='OR'), name='submission_question_or_attempt', violation_error_message='A submission answers either a question or a drill.'),
        ),
        migrations.RunPython(copy_submissions, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='grade',
            name='submission',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='grade', to='grading.submission'),
        ),
        migrations.AlterField(
            model_name='regraderequest',
            name='submission',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='regrade_requests', to='grading.submission'),
        ),
    ]

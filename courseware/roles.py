"""The Instructors group and what it may do; kept in step with every migration."""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

INSTRUCTORS = "Instructors"

# (app_label, codename) pairs granted to instructors.
INSTRUCTOR_PERMISSIONS = [
    ("courseware", "grade_submission"),
    ("courseware", "view_all_submissions"),
    ("courseware", "view_submission"),
    ("courseware", "change_submission"),
    ("courseware", "view_lesson"),
    ("courseware", "change_lesson"),
    ("courseware", "add_lesson"),
    ("courseware", "view_question"),
    ("courseware", "change_question"),
    ("courseware", "add_question"),
    ("courseware", "view_quickcheck"),
    ("courseware", "change_quickcheck"),
    ("courseware", "view_quickcheckoption"),
    ("courseware", "change_quickcheckoption"),
    ("courseware", "add_quickcheckoption"),
    ("courseware", "view_module"),
    ("courseware", "change_module"),
    ("drills", "view_drill"),
    ("drills", "change_drill"),
    ("drills", "add_drill"),
    ("drills", "view_interaction"),
    ("drills", "change_interaction"),
    ("drills", "add_interaction"),
    ("drills", "delete_interaction"),
    ("drills", "view_attempt"),
    ("drills", "view_attemptanswer"),
    ("grading", "release_grade"),
    ("grading", "view_grade"),
    ("grading", "change_grade"),
    ("grading", "view_gradechange"),
    ("grading", "view_feedbacksnippet"),
    ("grading", "add_feedbacksnippet"),
    ("grading", "change_feedbacksnippet"),
    ("grading", "delete_feedbacksnippet"),
    ("grading", "view_regraderequest"),
    ("grading", "change_regraderequest"),
]


def ensure_instructor_group(**kwargs) -> Group:
    group, _ = Group.objects.get_or_create(name=INSTRUCTORS)
    wanted = []
    for app_label, codename in INSTRUCTOR_PERMISSIONS:
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if permission is not None:
            wanted.append(permission)
    group.permissions.add(*wanted)
    return group


def is_instructor(user) -> bool:
    """Whether the user may grade: what has_perm would say, asked in one query rather than by
    loading every permission the user has, since the navigation asks it on every page."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    return (
        Permission.objects.filter(content_type__app_label="courseware", codename="grade_submission")
        .filter(Q(user=user) | Q(group__user=user))
        .exists()
    )

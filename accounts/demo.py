from django.contrib.auth import get_user_model

from accounts.roles import ensure_instructor_group

DEMO_PASSWORD = "critical-path"


def create_demo_accounts() -> list[tuple[str, bool]]:
    """Make sure 'learner' and 'instructor' exist; returns (username, created) pairs."""
    User = get_user_model()
    instructors = ensure_instructor_group()
    results = []
    for username, is_instructor in (("learner", False), ("instructor", True)):
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
        # Instructors edit content in the admin, which needs staff status.
        user.is_staff = is_instructor
        user.save()
        if is_instructor:
            user.groups.add(instructors)
        results.append((username, created))
    return results

from django import template

from drills import content
from drills.models import Attempt

register = template.Library()


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key)


@register.filter
def percent(value: float) -> str:
    """A probability as a percentage with one decimal, e.g. 0.0297 → '3.0%'."""
    return f"{100 * value:.1f}%"


@register.simple_tag(takes_context=True)
def practice_drills(context, lesson) -> list[dict]:
    """The drills that practise a lesson, each with the signed-in learner's best score."""
    if lesson is None:
        return []
    drills = content.drills_for_lesson(lesson.pk)
    user = context.get("user")
    best = Attempt.objects.best_by_drill(user) if user is not None and drills else {}
    return [{"drill": drill, "best": best.get(drill.pk)} for drill in drills]

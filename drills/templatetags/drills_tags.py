from django import template

from drills import content, grading
from drills.models import Attempt

register = template.Library()


@register.filter
def get_item(mapping: dict, key):
    # A template may hand in a value that is missing from its context, which renders as "".
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def percent(value: float) -> str:
    """A probability as a percentage with three significant figures, e.g. 0.0297 → '2.97%'."""
    return grading.percent(value)


@register.simple_tag
def off_path_rule() -> dict:
    """The rule for calls no user waits for, as the drill sidebar shows it beside the questions."""
    return {"title": grading.OFF_PATH_TITLE, "question": grading.OFF_PATH_RULE}


@register.simple_tag(takes_context=True)
def practice_drills(context, lesson) -> list[dict]:
    """The drills that practise a lesson, each with the signed-in learner's best score."""
    if lesson is None:
        return []
    # The lesson page has read the content version already.
    drills = content.drills_for_lesson(lesson.pk, context.get("content_version"))
    user = context.get("user")
    signed_in = user is not None and user.is_authenticated
    best = Attempt.objects.best_by_drill(user) if signed_in and drills else {}
    return [{"drill": drill, "best": best.get(drill.pk)} for drill in drills]


@register.simple_tag
def reason_label(number: int) -> str:
    """How feedback cites a reason by its number: 'question 3', or the rule's name."""
    found = grading.REASONS.get(number)
    return found.label if found else ""

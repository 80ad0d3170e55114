from typing import Any, cast

from django import template
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe

from courseware import reviewing, slots

register = template.Library()


@register.simple_tag(takes_context=True)
def slot(context: template.Context, name: str) -> SafeString:
    """Draws every template that apps put in the slot called ``name``, with this page's context."""
    # The page's context already holds what the context processors give (user, csrf_token).
    values = cast(dict[str, Any], context.flatten())
    return mark_safe("".join(get_template(path).render(values) for path in slots.templates(name)))


@register.simple_tag(takes_context=True)
def review_due_count(context: template.Context) -> int:
    """How many review cards the signed-in learner has due; 0 for a visitor."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return reviewing.due_count(user)

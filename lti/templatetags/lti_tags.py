from django import template

from lti.models import ScorePost

register = template.Library()


@register.simple_tag(takes_context=True)
def dead_passbacks(context: template.Context) -> int:
    """How many grades the platforms never received, for instructors; 0 for anyone else."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("lti.view_scorepost"):
        return 0
    return ScorePost.objects.dead().count()

from django import template

from simulator import report

register = template.Library()


@register.filter
def percent(value: float) -> str:
    """A probability as a percentage with three significant figures."""
    return report.percent(value)


@register.filter
def ms(value: float) -> str:
    """A latency in milliseconds, rounded for reading."""
    return report.milliseconds(value)

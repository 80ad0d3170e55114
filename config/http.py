"""The request a view receives, as the type checker should see it."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """Django's request with the ``htmx`` details that django-htmx's middleware sets on every
    request. Views that read ``request.htmx`` annotate their request with it."""

    htmx: HtmxDetails

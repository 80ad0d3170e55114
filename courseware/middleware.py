from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def method_not_allowed_page(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Gives the empty 405 that require_POST and friends return a page a person can read."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if response.status_code != 405 or response.content or request.htmx:
            return response
        page = render(
            request,
            "400.html",
            {
                "heading": "That page only accepts a form",
                "status": 405,
                "reason": "This address is where a form sends its answer; it has nothing to "
                "show on its own. Go back to the page with the form and submit it from there.",
            },
            status=405,
        )
        page["Allow"] = response["Allow"]
        return page

    return middleware

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Tells a load balancer this process answers requests; touches no database and no session."""
    return HttpResponse("ok", content_type="text/plain")

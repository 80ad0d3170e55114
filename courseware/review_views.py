"""The Review page: the learner's missed items, brought back when FSRS says they are due."""

import uuid

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from config.http import HtmxHttpRequest
from courseware import cards, reviewing, services
from courseware.models import ReviewCard


def bad_request(request: HtmxHttpRequest, reason: str) -> HttpResponse:
    if request.htmx:
        return HttpResponseBadRequest(reason, content_type="text/plain; charset=utf-8")
    return render(request, "400.html", {"reason": reason}, status=400)


@never_cache
@require_safe
def review_home(request: HtmxHttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    now = timezone.now()
    return render(request, "courseware/review.html", {
        "deck": reviewing.deck(request.user, now), "now": now,
    })


def own_card(request: HtmxHttpRequest, pk: int) -> tuple[ReviewCard, cards.CardKind]:
    # Another learner's card is answered as if it did not exist.
    card = get_object_or_404(ReviewCard, pk=pk, learner=request.user)
    kind = cards.get(card.kind)
    if kind is None:
        raise Http404("This card's kind of item is no longer part of the course.")
    return card, kind


def card_context(card: ReviewCard, kind: cards.CardKind, item: dict, **extra) -> dict:
    info = kind.describe([card.ref]).get(card.ref)
    if info is None:
        raise Http404("This item is no longer part of the course.")
    return {"card": card, "kind": kind, "info": info, "item": item, **extra}


def render_card(request: HtmxHttpRequest, context: dict, status: int = 200) -> HttpResponse:
    if request.htmx:
        return render(request, "courseware/review_card.html#review-card", context, status=status)
    return render(request, "courseware/review_card.html", context, status=status)


@never_cache
@require_safe
def review_card(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    card, kind = own_card(request, pk)
    try:
        item = kind.question(card.ref, learner=request.user, variant=card.variant)
    except cards.ItemGone as exc:
        raise Http404("This item is no longer part of the course.") from exc
    return render_card(request, card_context(
        card, kind, item, mode="question", token=uuid.uuid4(), now=timezone.now(),
    ))


@require_POST
def answer_card(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    card, kind = own_card(request, pk)
    try:
        token = uuid.UUID(request.POST.get("token", ""))
    except ValueError:
        return bad_request(request, "The form is missing its token. Reload the card.")
    variant = card.variant
    try:
        checked = kind.check(card.ref, request.POST, learner=request.user, variant=variant)
    except cards.BadAnswer as exc:
        return bad_request(request, str(exc))
    except cards.ItemGone as exc:
        raise Http404("This item is no longer part of the course.") from exc
    if isinstance(checked, cards.NotGraded):
        return render_card(request, card_context(
            card, kind, checked.context, mode="question", token=token, now=timezone.now(),
        ), status=422)
    was_due = card.due <= timezone.now()
    try:
        record, _ = services.review_card(card=card, checked=checked, variant=variant, token=token)
    except services.TokenReused as exc:
        return bad_request(request, str(exc))
    item = kind.feedback(card.ref, record.answer, learner=request.user, variant=record.variant)
    return render_card(request, card_context(
        card, kind, item, mode="feedback", record=record, was_due=was_due and not record.early,
        next_entry=reviewing.next_due(request.user, after=card), now=timezone.now(),
    ))

"""The final checkpoint: a mixed set asked one item at a time, then where the learner stands."""

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from config.http import HtmxHttpRequest
from courseware import cards, checkpoint, content, mastery, services
from courseware.models import Checkpoint
from courseware.review_views import bad_request


@never_cache
@require_safe
def checkpoint_home(request: HtmxHttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    mine = Checkpoint.objects.filter(learner=request.user)
    return render(request, "courseware/checkpoint.html", {
        "open_checkpoint": mine.filter(finished_at__isnull=True).first(),
        "finished": mine.filter(finished_at__isnull=False)[:5],
    })


@require_POST
def start_checkpoint(request: HtmxHttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        started, _ = services.start_checkpoint(learner=request.user)
    except services.CheckpointEmpty as exc:
        return render(request, "400.html", {"status": 409, "heading": "No checkpoint yet",
                                            "reason": str(exc)}, status=409)
    return redirect(started)


def item_context(own: Checkpoint, position: int, **extra) -> dict:
    entry = own.items[position]
    kind = cards.get(entry["kind"])
    if kind is None:
        raise Http404("This item is no longer part of the course.")
    return {"checkpoint": own, "kind": kind, "position": position, "answered": position,
            "number": position + 1, "count": len(own.items), **extra}


def render_item(request: HtmxHttpRequest, context: dict, status: int = 200) -> HttpResponse:
    if request.htmx:
        return render(request, "courseware/checkpoint_item.html#checkpoint-card", context,
                      status=status)
    return render(request, "courseware/checkpoint_item.html", context, status=status)


@never_cache
@require_safe
def checkpoint_item(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    own = get_object_or_404(Checkpoint, pk=pk, learner=request.user)
    answers = list(own.answers.all())
    position = len(answers)
    if position >= len(own.items):
        return results(request, own, answers)
    context = item_context(own, position, mode="question")
    try:
        context["item"] = context["kind"].question(
            own.items[position]["ref"], learner=request.user, variant=own.variant(position)
        )
    except cards.ItemGone as exc:
        raise Http404("This item is no longer part of the course.") from exc
    return render_item(request, context)


@require_POST
def answer_checkpoint(request: HtmxHttpRequest, pk: int, position: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    own = get_object_or_404(Checkpoint, pk=pk, learner=request.user)
    if position >= len(own.items):
        raise Http404("This checkpoint has no such question.")
    answered = own.answers.count()
    if position > answered:
        return bad_request(request, "Answer the questions in order: this one is not open yet.")
    context = item_context(own, position)
    kind, ref, variant = context["kind"], own.items[position]["ref"], own.variant(position)
    stored = own.answers.filter(position=position).first()
    if stored is None:
        try:
            checked = kind.check(ref, request.POST, learner=request.user, variant=variant)
        except cards.BadAnswer as exc:
            return bad_request(request, str(exc))
        except cards.ItemGone as exc:
            raise Http404("This item is no longer part of the course.") from exc
        if isinstance(checked, cards.NotGraded):
            return render_item(request, {**context, "mode": "question", "item": checked.context},
                               status=422)
        stored, _ = services.answer_checkpoint(checkpoint=own, position=position,
                                               checked=checked)
    item = kind.feedback(ref, stored.answer, learner=request.user, variant=variant)
    own.refresh_from_db()
    # The progress bar counts this item once it is graded.
    return render_item(request, {**context, "mode": "feedback", "item": item, "stored": stored,
                                 "answered": position + 1,
                                 "last": position + 1 >= len(own.items)})


def results(request: HtmxHttpRequest, own: Checkpoint, answers) -> HttpResponse:
    lessons = content.outline().lessons
    where = checkpoint.standing(own, answers)
    titles = {lesson.pk: lesson for lesson in lessons}
    weak_lessons = [
        (titles[lesson_id], figure) for lesson_id, figure in sorted(where.by_lesson.items())
        if lesson_id in titles and figure.right < figure.total
    ]
    figures = mastery.learner_mastery(request.user)
    return render(request, "courseware/checkpoint_result.html", {
        "checkpoint": own, "standing": where, "weak_lessons": weak_lessons,
        "question_rows": [
            row for row in mastery.question_rows(mastery.Mastery(by_question=where.by_question))
            if row.figure.total
        ],
        "mastery": figures,
        "mastery_questions": mastery.question_rows(figures),
        "mastery_lessons": mastery.lesson_rows(figures, lessons),
        "mastery_explanation": mastery.EXPLANATION,
    })

from importlib import import_module
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from courseware import content, services
from courseware.checks import learner_order, state_of
from courseware.forms import AnswerForm, QuickCheckForm
from courseware.models import Question, QuickCheck, Submission
from courseware.progress import course_progress

DRAFTS_KEY = "answer_drafts"
# Every visitor without a session is served the same cached lesson page (config/pagecache.py),
# so visitors share one order of options; each signed-in learner has an order of their own.
VISITOR_SEED = "visitor"


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    progress = course_progress(request.user)
    return render(request, "courseware/home.html", {"progress": progress})


def lesson_context(request: HttpRequest, entry: content.CachedLesson) -> dict:
    lesson = entry.lesson
    progress = course_progress(request.user)
    lessons = progress.lessons
    index = next(i for i, item in enumerate(lessons) if item.pk == lesson.pk)
    latest: dict[int, Submission] = {}
    if request.user.is_authenticated:
        for submission in Submission.objects.for_learner(request.user).filter(
            question__lesson=lesson
        ).order_by("created_at"):
            latest[submission.question_id] = submission
    drafts = request.session.get(DRAFTS_KEY, {})
    questions = [
        {
            "question": question,
            "submission": latest.get(question.pk),
            "form": AnswerForm(initial={"answer": drafts.get(question.slug, "")}),
        }
        for question in entry.questions
    ]
    context = {
        "lesson": lesson,
        "progress": progress,
        "position": index + 1,
        "previous": lessons[index - 1] if index > 0 else None,
        "next": lessons[index + 1] if index + 1 < len(lessons) else None,
        "questions": questions,
        "checks": quick_check_entries(request, entry.quick_checks),
    }
    if lesson.embed:
        # An embed names an app whose embed module draws an interactive part into the lesson.
        embed = import_module(f"{lesson.embed}.embed")
        context.update(embed.context(request), embed_template=embed.TEMPLATE)
    return context


@require_GET
def lesson(request: HttpRequest, slug: str) -> HttpResponse:
    entry = content.get_lesson(slug)
    if request.user.is_authenticated:
        services.record_visit(learner=request.user, lesson=entry.lesson)
    return render(request, "courseware/lesson.html", lesson_context(request, entry))


@require_POST
def complete_lesson(request: HttpRequest, slug: str) -> HttpResponse:
    entry = content.get_lesson(slug)
    lesson = entry.lesson
    if not request.user.is_authenticated:
        return redirect_to_login(lesson.get_absolute_url())
    services.mark_complete(learner=request.user, lesson=lesson)
    context = lesson_context(request, entry)
    if request.htmx:
        return render(request, "courseware/lesson.html#completion", context)
    target = context["next"] or lesson
    return redirect(target.get_absolute_url())


@require_POST
def answer_question(request: HttpRequest, slug: str) -> HttpResponse:
    question = get_object_or_404(Question.objects.select_related("lesson"), slug=slug)
    anchor = f"{question.lesson.get_absolute_url()}#question-{question.slug}"
    form = AnswerForm(request.POST)
    if not request.user.is_authenticated:
        # Keep what they typed so it is waiting for them after they sign in.
        drafts = request.session.get(DRAFTS_KEY, {})
        drafts[question.slug] = request.POST.get("answer", "")[: AnswerForm.base_fields[
            "answer"].max_length]
        request.session[DRAFTS_KEY] = drafts
        login_url = f"{reverse('login')}?{urlencode({'next': anchor})}"
        if request.htmx:
            return HttpResponseClientRedirect(login_url)
        return redirect(login_url)
    submission = None
    if form.is_valid():
        submission = services.submit_answer(
            learner=request.user, question=question, answer=form.cleaned_data["answer"]
        )
        drafts = request.session.get(DRAFTS_KEY, {})
        if drafts.pop(question.slug, None) is not None:
            request.session[DRAFTS_KEY] = drafts
        if not request.htmx:
            return redirect(anchor)
    item = {"question": question, "submission": submission, "form": form}
    status = 200 if submission else 422
    if request.htmx:
        return render(request, "courseware/lesson.html#question", {"item": item}, status=200)
    context = lesson_context(request, content.get_lesson(question.lesson.slug))
    context["questions"] = [
        item if entry["question"].pk == question.pk else entry for entry in context["questions"]
    ]
    return render(request, "courseware/lesson.html", context, status=status)


def quick_check_entry(
    request: HttpRequest, check: QuickCheck, tries: list[list[str]], form: QuickCheckForm | None
) -> dict:
    seed = str(request.user.pk) if request.user.is_authenticated else VISITOR_SEED
    options = learner_order(check.options.all(), seed=seed, slug=check.slug)
    state = state_of(services.option_keys(options), tries)
    if form is None:
        # A second try starts from the first one, so the learner sees what they chose.
        initial = {"choice": sorted(state.last.selected)} if state.last else {}
        form = QuickCheckForm(quick_check=check, options=options, initial=initial)
    return {"check": check, "options": options, "state": state, "check_form": form}


def quick_check_entries(request: HttpRequest, checks) -> list[dict]:
    tries = services.quick_check_tries(
        learner=request.user, session=request.session, quick_checks=checks
    )
    return [quick_check_entry(request, check, tries.get(check.slug, []), None) for check in checks]


@require_POST
def check_quick_check(request: HttpRequest, slug: str) -> HttpResponse:
    quick_check = get_object_or_404(
        QuickCheck.objects.select_related("lesson").prefetch_related("options"), slug=slug
    )
    entry = quick_check_entries(request, [quick_check])[0]
    form = QuickCheckForm(request.POST, quick_check=quick_check, options=entry["options"])
    status = 200
    if form.is_valid():
        state, kept = services.answer_quick_check(
            learner=request.user,
            session=request.session,
            quick_check=quick_check,
            options=services.option_keys(entry["options"]),
            selected=form.cleaned_data["choice"],
        )
        if not request.htmx:
            return redirect(f"{quick_check.lesson.get_absolute_url()}#check-{quick_check.slug}")
        tries = [sorted(result.selected) for result in state.tries]
        entry = quick_check_entry(request, quick_check, tries, None)
        entry["already_finished"] = not kept
    elif form.tampered:
        # Only an altered form sends these; say why and store nothing.
        reason = " ".join(form.errors["choice"])
        if request.htmx:
            return HttpResponseBadRequest(reason, content_type="text/plain; charset=utf-8")
        entry = {**entry, "check_form": form}
        status = 400
    else:
        entry = {**entry, "check_form": form}
        status = 422
    if request.htmx:
        return render(request, "courseware/lesson.html#quick-check", entry)
    page = lesson_context(request, content.get_lesson(quick_check.lesson.slug))
    page["checks"] = [
        entry if item["check"].pk == quick_check.pk else item for item in page["checks"]
    ]
    return render(request, "courseware/lesson.html", page, status=status)


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    # Browsers ask for /favicon.ico whatever the page links; point them at the real icon.
    return redirect(static("img/favicon.svg"), permanent=True)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(
        request,
        "403.html",
        {"reason": "The form had expired or was sent from elsewhere. Go back, reload the page "
                   "and try again."},
        status=403,
    )


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)

import json
import logging
import uuid
from typing import cast
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from config.http import HtmxHttpRequest
from courseware import (
    content,
    embeds,
    figures,
    handins,
    mastery,
    problems,
    services,
    versioning,
)
from courseware.checks import learner_order, state_of
from courseware.forms import AnswerForm, NewNumbersForm, ProblemAnswerForm, QuickCheckForm
from courseware.models import Problem, ProblemAnswer, ProblemInstance, Question, QuickCheck
from courseware.progress import course_progress
from courseware.versioning import content_version

logger = logging.getLogger(__name__)

DRAFTS_KEY = "answer_drafts"
# Every visitor without a session is served the same cached lesson page (config/pagecache.py),
# so visitors share one order of options; each signed-in learner has an order of their own.
VISITOR_SEED = "visitor"
# A visitor sees a problem with these example numbers and is asked to log in for their own.
VISITOR_PROBLEM_SEED = 0


@require_safe
def home(request: HtmxHttpRequest) -> HttpResponse:
    progress = course_progress(request.user)
    return render(request, "courseware/home.html", {
        "progress": progress, **mastery_context(request.user, progress.lessons),
    })


def mastery_context(user, lessons) -> dict:
    figures = mastery.learner_mastery(user)
    return {
        "mastery": figures,
        "mastery_questions": mastery.question_rows(figures),
        "mastery_lessons": mastery.lesson_rows(figures, lessons),
        "mastery_explanation": mastery.EXPLANATION,
    }


def lesson_context(request: HtmxHttpRequest, entry: content.LessonContent) -> dict:
    lesson = entry.lesson
    progress = course_progress(request.user, entry.outline)
    lessons = progress.lessons
    index = next(i for i, item in enumerate(lessons) if item.pk == lesson.pk)
    latest: dict[int, handins.Receipt] = {}
    if request.user.is_authenticated and handins.is_open():
        latest = handins.desk().latest(learner=request.user, items=list(entry.questions))
    drafts = request.session.get(DRAFTS_KEY, {})
    questions = [
        {
            "question": question,
            "submission": latest.get(question.pk),
            "form": AnswerForm(
                initial={"answer": drafts.get(question.slug, ""), "token": uuid.uuid4()}
            ),
        }
        for question in entry.questions
    ]
    context = {
        "content_version": entry.version,
        "lesson": lesson,
        "progress": progress,
        "position": index + 1,
        "previous": lessons[index - 1] if index > 0 else None,
        "next": lessons[index + 1] if index + 1 < len(lessons) else None,
        "questions": questions,
        "checks": quick_check_entries(request, entry.quick_checks),
        "problems": problem_entries(request, entry.problems),
    }
    context["body_parts"] = body_parts(request, lesson, entry.version)
    embed = embeds.get(lesson.embed)
    if embed is not None:
        context.update(embed.context(request), embed_template=embed.template)
    elif lesson.embed:
        # Saved before its app was removed, or typed past validation: show the lesson without it.
        logger.warning("lesson %s names an unknown embed %r", lesson.slug, lesson.embed)
    return context


def figure_html(request: HtmxHttpRequest, lesson, name: str, *, part: str = "",
                version: str | None = None) -> str | None:
    """A figure drawn for this request's inputs (only its ``part``, if named), or None for an
    unknown figure. A drawing depends on nothing but its inputs, the content and its code, so
    each is drawn once for every server and kept in the shared cache."""
    figure = figures.get(name)
    if figure is None:
        return None
    template = f"{figures.FRAME_TEMPLATE}#{part}" if part else figures.FRAME_TEMPLATE

    def draw() -> str:
        return render_to_string(template, {
            "figure": figure,
            "fig": figure.context(request.GET),
            "figure_action": lesson.get_absolute_url(),
            "figure_endpoint": reverse("courseware:figure", args=[lesson.slug, name]),
        })

    inputs = json.dumps(sorted(request.GET.lists()))
    html = versioning.read_through(
        f"figure:{lesson.slug}:{name}:{part}:{figures.source_digest(figure)}:{inputs}", draw,
        version=version)
    return mark_safe(html)  # noqa: S308 - rendered by our own template, escaped there


def body_parts(request: HtmxHttpRequest, lesson, version: str | None = None) -> list[dict]:
    """The lesson's body cut at its figures, each figure drawn for this request's inputs."""
    parts = []
    for part in figures.split(lesson.body_html):
        html = figure_html(request, lesson, part.figure, version=version) if part.figure \
            else None
        if part.figure and html is None:
            logger.warning("lesson %s places an unknown figure %r", lesson.slug, part.figure)
        parts.append({"html": part.html, "figure": html})
    return parts


@require_safe
def figure(request: HtmxHttpRequest, slug: str, name: str) -> HttpResponse:
    """A figure redrawn for new inputs; without htmx, the whole lesson at the figure."""
    entry = content.get_lesson(slug)
    lesson = entry.lesson
    if name not in [part.figure for part in figures.split(lesson.body_html)]:
        raise Http404("This lesson has no such figure")
    if not request.htmx:
        query = request.GET.urlencode()
        return redirect(f"{lesson.get_absolute_url()}{'?' + query if query else ''}#fig-{name}")
    found = figure_html(request, lesson, name, part="out")
    if found is None:
        raise Http404("No such figure")
    return HttpResponse(found)


@require_safe
def lesson(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    entry = content.get_lesson(slug)
    if request.user.is_authenticated:
        services.record_visit(learner=request.user, lesson=entry.lesson)
    return render(request, "courseware/lesson.html", lesson_context(request, entry))


@require_POST
def complete_lesson(request: HtmxHttpRequest, slug: str) -> HttpResponse:
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


RETIRED_REASON = (
    "This question has left the course, so it takes no new answers. What you handed in for it "
    "earlier, and any grade it got, are kept."
)


def retired_question(request: HtmxHttpRequest) -> HttpResponse:
    # A form posted by htmx shows a plain-text reason in its own error box, not a page.
    if request.htmx:
        return HttpResponse(RETIRED_REASON, status=410, content_type="text/plain; charset=utf-8")
    return render(request, "400.html", {"status": 410, "heading": "No longer part of the course",
                                        "reason": RETIRED_REASON}, status=410)


@require_POST
def answer_question(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    version = content_version()
    question = get_object_or_404(Question.objects.select_related("lesson"), slug=slug)
    if question.retired:
        return retired_question(request)
    anchor = f"{question.lesson.get_absolute_url()}#question-{question.slug}"
    form = AnswerForm(request.POST)
    if not request.user.is_authenticated:
        # Keep what they typed so it is waiting for them after they sign in.
        drafts = request.session.get(DRAFTS_KEY, {})
        limit = cast(forms.CharField, AnswerForm.base_fields["answer"]).max_length
        drafts[question.slug] = request.POST.get("answer", "")[:limit]
        request.session[DRAFTS_KEY] = drafts
        login_url = f"{reverse('login')}?{urlencode({'next': anchor})}"
        if request.htmx:
            return HttpResponseClientRedirect(login_url)
        return redirect(login_url)
    submission = None
    if form.is_valid():
        try:
            submission, _ = services.submit_answer(
                learner=request.user, question=question, answer=form.cleaned_data["answer"],
                token=form.cleaned_data["token"],
            )
        except handins.DeskClosed as exc:
            form.add_error(None, str(exc))
    if submission is not None:
        drafts = request.session.get(DRAFTS_KEY, {})
        if drafts.pop(question.slug, None) is not None:
            request.session[DRAFTS_KEY] = drafts
        if not request.htmx:
            return redirect(anchor)
    item = {"question": question, "submission": submission, "form": form}
    status = 200 if submission else 422
    if request.htmx:
        return render(request, "courseware/lesson.html#question",
                      {"item": item, "content_version": version}, status=200)
    context = lesson_context(request, content.get_lesson(question.lesson.slug))
    # The version read before this question was, so its fragment is never older than its key.
    context["content_version"] = version
    context["questions"] = [
        item if entry["question"].pk == question.pk else entry for entry in context["questions"]
    ]
    return render(request, "courseware/lesson.html", context, status=status)


def quick_check_entry(
    request: HtmxHttpRequest, check: QuickCheck, tries: list[list[str]], form: QuickCheckForm | None
) -> dict:
    seed = str(request.user.pk) if request.user.is_authenticated else VISITOR_SEED
    options = learner_order(check.options.all(), seed=seed, slug=check.slug)
    state = state_of(services.option_keys(options), tries)
    if form is None:
        # A second try starts from the first one, so the learner sees what they chose.
        initial = {"choice": sorted(state.last.selected)} if state.last else {}
        form = QuickCheckForm(quick_check=check, options=options, initial=initial)
    return {"check": check, "options": options, "state": state, "check_form": form}


def quick_check_entries(request: HtmxHttpRequest, checks) -> list[dict]:
    tries = services.quick_check_tries(
        learner=request.user, session=request.session, quick_checks=checks
    )
    return [quick_check_entry(request, check, tries.get(check.slug, []), None) for check in checks]


@require_POST
def check_quick_check(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    version = content_version()
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
        reason = " ".join(str(error) for error in form.errors["choice"])
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
    page["content_version"] = version
    page["checks"] = [
        entry if item["check"].pk == quick_check.pk else item for item in page["checks"]
    ]
    return render(request, "courseware/lesson.html", page, status=status)


def answer_of(instance: ProblemInstance | None) -> ProblemAnswer | None:
    if instance is None:
        return None
    try:
        return instance.answer
    except ObjectDoesNotExist:
        return None


def problem_entry(
    problem: Problem, instance: ProblemInstance | None, *, counted: ProblemAnswer | None = None,
    form: ProblemAnswerForm | None = None, error: str = "",
) -> dict:
    """What the problem's card shows: the learner's numbers and, once answered, the verdict and
    the worked solution with those numbers."""
    problem_type = problem.problem_type
    assert problem_type is not None
    params = problem_type.generate(instance.seed if instance else VISITOR_PROBLEM_SEED)
    answer = answer_of(instance)
    entry = {
        "problem": problem,
        "type": problem_type,
        "instance": instance,
        "prompt": problem_type.prompt(params),
        "tolerance": problem_type.tolerance_text(),
        "links": problem_type.links(params),
        "answer": answer,
        "counted": counted,
        "error": error,
    }
    if answer is not None:
        verdict = problem_type.grade(params, answer.value)
        entry.update(
            verdict=verdict,
            solution=problem_type.solution(params),
            shown={name: problem_type.unit.show(problems.number(getattr(verdict, name), 5))
                   for name in ("given", "truth", "low", "high")},
        )
    elif instance is not None:
        entry["form"] = form or ProblemAnswerForm(
            initial={"instance": instance.pk}, unit=problem_type.unit
        )
    return entry


def problem_entries(request: HtmxHttpRequest, lesson_problems) -> list[dict]:
    if not lesson_problems:
        return []
    if not request.user.is_authenticated:
        return [problem_entry(problem, None) for problem in lesson_problems]
    instances = services.current_instances(learner=request.user, problems_=lesson_problems)
    counted = services.counted_answers(learner=request.user, problems_=lesson_problems)
    return [
        problem_entry(problem, instances[problem.pk], counted=counted.get(problem.pk))
        for problem in lesson_problems
    ]


def problem_response(
    request: HtmxHttpRequest, problem: Problem, entry: dict, *, version: str, status: int = 200
) -> HttpResponse:
    if request.htmx:
        # htmx swaps only successful responses; the card itself shows what was wrong.
        return render(request, "courseware/lesson.html#problem", {"entry": entry})
    page = lesson_context(request, content.get_lesson(problem.lesson.slug))
    page["content_version"] = version
    page["problems"] = [
        entry if item["problem"].pk == problem.pk else item for item in page["problems"]
    ]
    return render(request, "courseware/lesson.html", page, status=status)


def problem_anchor(problem: Problem) -> str:
    return f"{problem.lesson.get_absolute_url()}#problem-{problem.slug}"


def graded_problem(slug: str) -> Problem:
    problem = get_object_or_404(Problem.objects.select_related("lesson"), slug=slug)
    if problem.problem_type is None:
        raise Http404("No such problem")
    return problem


@require_POST
def answer_problem(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    version = content_version()
    problem = graded_problem(slug)
    if not request.user.is_authenticated:
        login_url = f"{reverse('login')}?{urlencode({'next': problem_anchor(problem)})}"
        if request.htmx:
            return HttpResponseClientRedirect(login_url)
        return redirect(login_url)
    problem_type = problem.problem_type
    assert problem_type is not None
    form = ProblemAnswerForm(request.POST, unit=problem_type.unit)
    current = services.current_instance(learner=request.user, problem=problem)
    counted = services.counted_answers(learner=request.user, problems_=[problem]).get(problem.pk)
    if not form.is_valid():
        if form.tampered:
            return bad_request(request, "The form did not say which numbers you answered.")
        entry = problem_entry(problem, current, counted=counted, form=form)
        return problem_response(request, problem, entry, version=version, status=422)
    try:
        outcome = services.answer_problem(
            learner=request.user, problem=problem, instance_id=form.cleaned_data["instance"],
            value=form.cleaned_data["answer"],
        )
    except services.ProblemRefused as exc:
        if request.htmx and not isinstance(exc, services.NumbersReplaced):
            return bad_request(request, str(exc), status=exc.status)
        entry = problem_entry(problem, current, counted=counted, error=str(exc))
        return problem_response(request, problem, entry, version=version, status=exc.status)
    if not request.htmx:
        return redirect(problem_anchor(problem))
    counted = services.counted_answers(learner=request.user, problems_=[problem]).get(problem.pk)
    entry = problem_entry(problem, outcome.answer.instance, counted=counted)
    entry["already_answered"] = not outcome.created
    return problem_response(request, problem, entry, version=version)


@require_POST
def new_problem_numbers(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    version = content_version()
    problem = graded_problem(slug)
    if not request.user.is_authenticated:
        login_url = f"{reverse('login')}?{urlencode({'next': problem_anchor(problem)})}"
        if request.htmx:
            return HttpResponseClientRedirect(login_url)
        return redirect(login_url)
    form = NewNumbersForm(request.POST)
    if not form.is_valid():
        return bad_request(request, "The form did not say which numbers you want to replace.")
    instance = services.new_instance(
        learner=request.user, problem=problem, after=form.cleaned_data["after"]
    )
    if not request.htmx:
        return redirect(problem_anchor(problem))
    counted = services.counted_answers(learner=request.user, problems_=[problem]).get(problem.pk)
    return problem_response(
        request, problem, problem_entry(problem, instance, counted=counted), version=version
    )


def bad_request(request: HtmxHttpRequest, reason: str, *, status: int = 400) -> HttpResponse:
    """A refusal with its reason as plain text: what a tampered form or a stale page gets."""
    return HttpResponse(reason, status=status, content_type="text/plain; charset=utf-8")

import dataclasses
import uuid

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from config.http import HtmxHttpRequest
from courseware import handins
from drills import content, diagram, grading, services, workflow
from drills.forms import (
    CHOICE_PREFIX,
    MAX_JUSTIFICATION,
    MAX_OWN_ROWS,
    REASON_PREFIX,
    TECHNIQUE_PREFIX,
    WHY_PREFIX,
    DrillForm,
    TamperedForm,
    WorkflowForm,
    check_drill_post,
    error_summary,
    row_formset,
    validate_workflow,
)
from drills.models import Attempt, Difficulty, Drill, Interaction

OWN_DRAFT_KEY = "own_workflow_draft"
# An anonymous attempt is kept in the session under this prefix and the drill's slug, so that
# logging in to save it does not mean answering every interaction again.
DRILL_DRAFT_PREFIX = "drill_draft:"
# The versions of a drill whose whole key an anonymous visitor has seen, oldest first.
DRILL_SEEN_PREFIX = "drill_seen:"
# The history page lists this many of the newest attempts; the best one is always named.
HISTORY_LENGTH = 50


def bad_request(request: HtmxHttpRequest, reason: str) -> HttpResponse:
    if request.htmx:
        return HttpResponseBadRequest(reason, content_type="text/plain; charset=utf-8")
    return render(request, "400.html", {"reason": reason}, status=400)


def drill_changed(request: HtmxHttpRequest, reason: str) -> HttpResponse:
    """409: the drill was edited while the learner answered it; they need a fresh form."""
    if request.htmx:
        return HttpResponse(reason, status=409, content_type="text/plain; charset=utf-8")
    return render(request, "400.html", {
        "status": 409, "heading": "This drill changed, reload it", "reason": reason,
    }, status=409)


def load_attempt_drill(slug: str, variant: str) -> content.DrillContent:
    """The version of the drill an attempt answered; the drill as written if that variant has
    since left the file."""
    try:
        return content.get_drill(slug, variant)
    except content.UnknownVariant:
        return content.get_drill(slug)


def seen_versions(request: HtmxHttpRequest, drill: Drill) -> list[str]:
    """The versions of this drill whose key the visitor has seen, oldest first."""
    seen = [str(v) for v in request.session.get(DRILL_SEEN_PREFIX + drill.slug, [])]
    if request.user.is_authenticated:
        stored = Attempt.objects.for_learner(request.user).filter(drill=drill).order_by(
            "created_at", "pk").values_list("variant", flat=True)
        seen = [*seen, *stored]
    return seen


def mark_seen(request: HtmxHttpRequest, drill: Drill, variant: str) -> None:
    key = DRILL_SEEN_PREFIX + drill.slug
    seen = [str(v) for v in request.session.get(key, []) if v != variant]
    # Only the order matters, and only one entry per version.
    request.session[key] = [*seen, variant][-len(drill.variant_slugs):]


def grade_attempt(attempt: Attempt, interactions: list[Interaction]) -> grading.DrillResult:
    """The feedback for a stored attempt, against today's key for the interactions it answered."""
    answers = {
        answer.interaction.key: grading.Answer(
            answer.choice, answer.justification, reason=answer.reason,
            technique=answer.technique or None,
        )
        for answer in attempt.answers.select_related("interaction")
    }
    key = []
    for interaction in interactions:
        if interaction.key in answers:
            item = interaction.key_item()
            if item.after is not None and item.after not in answers:
                item = grading.KeyItem(**{**item.__dict__, "after": None})
            key.append(item)
    return grading.grade(key, answers)


def drill_context(request: HtmxHttpRequest, drill: Drill, interactions: list[Interaction], *,
                  version: str, variant: content.DrillContent | None = None, **extra) -> dict:
    result = extra.get("result")
    verdicts = result.verdicts if result else []
    return {
        "content_version": version,
        "variant": variant.variant if variant else "",
        "variant_title": variant.variant_title if variant else "",
        "variant_change": variant.variant_change if variant else "",
        # What the feedback rows depend on besides the content, so equal choices share them.
        "choices_made": " ".join(
            f"{v.item.key}={v.choice}/{v.reason}/{v.technique}" for v in verdicts
        ),
        "reasons_given": any(v.justification for v in verdicts),
        "drill": drill,
        "interactions": interactions,
        "numbers": {interaction.key: n for n, interaction in enumerate(interactions, start=1)},
        "questions": grading.QUESTIONS.values(),
        "max_sync_hops": grading.MAX_SYNC_HOPS,
        "record": Attempt.objects.for_learner(request.user).record_for(drill),
        # Offered with the feedback only.
        "next_drill": content.next_drill(drill) if result else None,
        "form": None,
        "result": None,
        "attempt": None,
        **extra,
    }


@require_safe
def catalogue(request: HtmxHttpRequest) -> HttpResponse:
    level = request.GET.get("difficulty", "")
    drills = content.catalogue()
    total = len(drills)
    if level in {str(value) for value in Difficulty.values}:
        drills = [drill for drill in drills if drill.difficulty == int(level)]
    else:
        level = ""
    best = Attempt.objects.best_by_drill(request.user)
    entries = [{"drill": drill, "best": best.get(drill.pk)} for drill in drills]
    context = {
        "entries": entries,
        "levels": Difficulty.choices,
        "level": level,
        "done": len(best),
        "total_drills": total,
    }
    if request.htmx:
        return render(request, "drills/catalogue.html#drill-list", context)
    return render(request, "drills/catalogue.html", context)


@never_cache
@require_safe
def detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    drill = content.get_drill(slug).drill
    draft = request.session.get(DRILL_DRAFT_PREFIX + drill.slug)
    draft = draft if request.user.is_authenticated and isinstance(draft, dict) else None
    if draft is not None and str(draft.get("variant", "")) in drill.variant_slugs:
        # The answers kept from before logging in belong to the version they were given for.
        variant = str(draft.get("variant", ""))
    else:
        variant = content.next_variant(drill, seen_versions(request, drill))
    entry = content.get_drill(slug, variant)
    interactions = list(entry.interactions)
    initial: dict = {"token": uuid.uuid4(), "variant": variant}
    restored = False
    if draft is not None:
        restored_values = draft_initial(draft.get("answers", {}), interactions)
        initial.update(restored_values)
        restored = bool(restored_values)
    form = DrillForm(initial=initial, interactions=interactions,
                     techniques=entry.drill.techniques)
    choices = {i.key: str(initial.get(f"{CHOICE_PREFIX}{i.key}", "")) for i in interactions}
    return render(request, "drills/detail.html", drill_context(
        request, entry.drill, interactions, version=entry.version, variant=entry, form=form,
        restored=restored, diagram=design_of(entry, choices)))


def draft_initial(draft: dict, interactions: list[Interaction]) -> dict:
    """Form initial values from a kept anonymous attempt, for the interactions still there."""
    initial = {}
    if not isinstance(draft, dict):
        return initial
    for interaction in interactions:
        saved = draft.get(interaction.key)
        if not isinstance(saved, dict) or saved.get("choice") not in grading.CHOICES:
            continue
        initial[f"{CHOICE_PREFIX}{interaction.key}"] = saved["choice"]
        initial[f"{REASON_PREFIX}{interaction.key}"] = str(saved.get("reason", ""))
        initial[f"{TECHNIQUE_PREFIX}{interaction.key}"] = str(saved.get("technique", ""))
        initial[f"{WHY_PREFIX}{interaction.key}"] = str(saved.get("why", ""))[:MAX_JUSTIFICATION]
    return initial


def posted_drill(request: HtmxHttpRequest, slug: str) -> content.DrillContent | HttpResponse:
    """The version of the drill a posted form answers, or the 400 that refuses the form."""
    variants = request.POST.getlist("variant")
    if len(variants) > 1:
        return bad_request(request, "The form sent more than one variant.")
    try:
        entry = content.get_drill(slug, variants[0] if variants else "")
    except content.UnknownVariant as exc:
        return bad_request(request, f"{exc} Reload the drill and try again.")
    if not entry.interactions:
        return bad_request(request, "This drill has no interactions to answer yet.")
    try:
        check_drill_post(request.POST, [interaction.key for interaction in entry.interactions],
                         entry.drill.techniques)
    except TamperedForm as exc:
        return bad_request(request, str(exc))
    return entry


@require_POST
def submit(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    entry = posted_drill(request, slug)
    if isinstance(entry, HttpResponse):
        return entry
    drill, interactions = entry.drill, list(entry.interactions)
    form = DrillForm(request.POST, interactions=interactions, techniques=drill.techniques)
    if not form.is_valid():
        if "token" in form.errors:
            return bad_request(request, str(form.errors["token"][0]))
        context = drill_context(request, drill, interactions, version=entry.version,
                                variant=entry, form=form,
                                diagram=design_of(entry, form.typed_choices()))
        if request.htmx:
            return render(request, "drills/detail.html#work", context)
        return render(request, "drills/detail.html", context, status=422)

    result = grading.grade(entry.key, form.answers())
    attempt = None
    draft_key = DRILL_DRAFT_PREFIX + drill.slug
    # The feedback shows the whole key of this version: a retry serves another one.
    mark_seen(request, drill, entry.variant)
    if not request.user.is_authenticated:
        request.session[draft_key] = {"variant": entry.variant, "answers": {
            key: {"choice": answer.choice, "why": answer.justification,
                  "reason": answer.reason, "technique": answer.technique or ""}
            for key, answer in form.answers().items()
        }}
    else:
        request.session.pop(draft_key, None)
        try:
            attempt, created = services.record_attempt(
                learner=request.user, drill=drill, interactions=interactions, result=result,
                token=form.cleaned_data["token"], variant=entry.variant,
            )
        except services.TokenReused as exc:
            return bad_request(request, str(exc))
        except services.DrillChanged as exc:
            return drill_changed(request, str(exc))
        if not request.htmx:
            return redirect(attempt)
        if not created:
            # A repeated submit shows what was stored the first time.
            result = grade_attempt(attempt, interactions)
    context = drill_context(request, drill, interactions, version=entry.version, variant=entry,
                            result=result, attempt=attempt, record_oob=bool(request.htmx),
                            **result_designs(entry, result))
    if request.htmx:
        return render(request, "drills/detail.html#work", context)
    return render(request, "drills/detail.html", context)


def result_designs(entry: content.DrillContent, result: grading.DrillResult) -> dict:
    """The learner's graded design and the key's, to stand side by side in the feedback."""
    return {
        "diagram": design_of(entry, {v.item.key: v.choice for v in result.verdicts}),
        "key_diagram": key_design(entry),
    }


def design_of(entry: content.DrillContent, choices: dict[str, str], *,
              title: str = "Your design") -> diagram.Diagram:
    drill = entry.drill
    return diagram.draw(entry.key, choices, entry=drill.entry, title=title,
                        hop_p99_ms=drill.hop_p99_ms, hop_failure=drill.hop_failure)


def key_design(entry: content.DrillContent) -> diagram.Diagram:
    return design_of(entry, grading.key_choices(entry.key), title="The key's design")


@require_POST
def design(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The learner's design drawn from the choices made so far; nothing is graded or stored.

    Over htmx only the drawing comes back. Without JavaScript the drill page is drawn again with
    the choices kept in the form and the drawing beside it.
    """
    entry = posted_drill(request, slug)
    if isinstance(entry, HttpResponse):
        return entry
    interactions = list(entry.interactions)
    typed = DrillForm(request.POST, interactions=interactions, techniques=entry.drill.techniques)
    drawn = design_of(entry, typed.typed_choices())
    if request.htmx:
        return render(request, "drills/detail.html#design-live", {
            "diagram": drawn, "max_sync_hops": grading.MAX_SYNC_HOPS})
    initial = {name: request.POST.get(name, "") for name in typed.fields}
    form = DrillForm(initial=initial, interactions=interactions,
                     techniques=entry.drill.techniques)
    return render(request, "drills/detail.html", drill_context(
        request, entry.drill, interactions, version=entry.version, variant=entry, form=form,
        diagram=drawn, redrawn=True))


@require_safe
def history(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    drill = content.get_drill(slug).drill
    attempts = Attempt.objects.for_learner(request.user).filter(drill=drill)
    count = attempts.count()
    best = attempts.order_by("-score", "-created_at").first()
    recent = attempts.select_related("drill")[:HISTORY_LENGTH]
    numbered = [(count - index, attempt) for index, attempt in enumerate(recent)]
    return render(request, "drills/history.html", {
        "drill": drill, "attempts": numbered, "count": count, "best": best,
        "shown": len(numbered), "max_sync_hops": grading.MAX_SYNC_HOPS,
        "variant_titles": variant_titles(drill),
    })


def variant_titles(drill: Drill) -> dict[str, str]:
    """What the history calls each version of the drill."""
    return {"": "As written", **{
        str(v.get("slug")): f"Variant: {v.get('title', '')}" for v in drill.variants
    }}


@require_safe
def attempt(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    attempt = get_object_or_404(
        Attempt.objects.select_related("drill", "learner"), pk=pk, drill__slug=slug
    )
    own = attempt.learner_id == request.user.pk
    if not own and not request.user.has_perm("drills.view_attempt"):
        # Someone else's attempt: say no more than that it is not there.
        raise Http404("No such attempt")
    entry = load_attempt_drill(slug, attempt.variant)
    drill, interactions = entry.drill, list(entry.interactions)
    result = grade_attempt(attempt, interactions)
    number = Attempt.objects.filter(
        learner=attempt.learner, drill=drill, created_at__lte=attempt.created_at
    ).count()
    context = drill_context(request, drill, interactions, version=entry.version, variant=entry,
                            result=result, attempt=attempt, **result_designs(entry, result))
    context.update(
        number=number,
        own=own,
        key_changed=(result.score, result.total) != (attempt.score, attempt.total),
    )
    return render(request, "drills/attempt.html", context)


# Own workflow ----------------------------------------------------------------------------------


def own_context(request: HtmxHttpRequest, *, form: WorkflowForm, formset, rows: list[dict],
                **extra) -> dict:
    submissions = []
    question = services.own_workflow_question()
    if request.user.is_authenticated and question is not None and handins.is_open():
        submissions = [
            shown_from_rows(receipt) for receipt in
            handins.desk().recent(learner=request.user, item=question, limit=10)
        ]
    return {
        "form": form,
        "formset": formset,
        "max_rows": MAX_OWN_ROWS,
        "row_count": formset.total_form_count(),
        "question_missing": question is None,
        "submissions": submissions,
        **own_design(rows),
        **extra,
    }


def own_design(rows: list[dict]) -> dict:
    """The hop count and the drawing of the rows as typed, or what keeps them from being drawn."""
    problems = workflow.structure_errors(rows)
    hops = workflow.count_hops(rows)
    return {
        "hops": hops,
        "over_limit": workflow.over_limit(hops),
        "max_sync_hops": grading.MAX_SYNC_HOPS,
        "problems": problems,
        "row_problems": workflow.problems_by_row(problems),
        "diagram": None if problems else diagram.draw_workflow(rows),
        # For what upper apps add beside the drawing (the outage lab's link).
        "design_rows": rows,
    }


def shown_from_rows(receipt: handins.Receipt) -> handins.Receipt:
    """A hand-in with its path worked out from its rows' structure, as every page shows it."""
    text = workflow.payload_text(receipt.payload)
    return receipt if text is None else dataclasses.replace(receipt, answer=text)


def render_builder(request: HtmxHttpRequest, context: dict, status: int = 200) -> HttpResponse:
    if request.htmx:
        # The drawing sits outside the form, in the side column: it comes along out of band.
        return render(request, "drills/own_workflow.html#builder", {**context, "design_oob": True})
    return render(request, "drills/own_workflow.html", context, status=status)


def redraw_builder(request: HtmxHttpRequest, typed: dict, rows: list[dict], *, focus: int | None,
                   **extra) -> HttpResponse:
    """The builder drawn again from what was typed, without judging it yet."""
    formset = row_formset(rows=rows)
    if focus is not None:
        formset.forms[focus].focus()
    form = WorkflowForm(initial={**typed, "token": typed.get("token") or uuid.uuid4()})
    return render_builder(request, own_context(request, form=form, formset=formset, rows=rows,
                                               **extra))


@never_cache
@require_safe
def own_workflow(request: HtmxHttpRequest) -> HttpResponse:
    draft = request.session.get(OWN_DRAFT_KEY) or {}
    rows = draft.get("rows") or []
    form = WorkflowForm(initial={"name": draft.get("name", ""),
                                 "proposal": draft.get("proposal", ""), "token": uuid.uuid4()})
    context = own_context(request, form=form, formset=row_formset(rows=rows), rows=rows,
                          restored=bool(draft))
    handed_in = request.GET.get("handed_in", "")
    # The model answer is shown as soon as the learner has handed their own workflow in, so
    # they can check their design while it waits for an instructor.
    context["handed_in"] = next(
        (s for s in context["submissions"] if str(s.pk) == handed_in), None)
    context["model_question"] = (
        services.own_workflow_question() if context["handed_in"] is not None else None)
    return render(request, "drills/own_workflow.html", context)


@require_POST
def own_add_row(request: HtmxHttpRequest) -> HttpResponse:
    rows = row_formset(request.POST).typed_rows()
    typed = WorkflowForm(request.POST).typed()
    if len(rows) >= MAX_OWN_ROWS:
        notice = f"A workflow here has at most {MAX_OWN_ROWS} interactions."
        if request.htmx:
            return reswap(retarget(render(request, "drills/own_workflow.html#notice",
                                          {"notice": notice}), "#own-notice"), "innerHTML")
        return redraw_builder(request, typed, rows, focus=None, notice=notice)
    if not request.htmx:
        return redraw_builder(request, typed, [*rows, {}], focus=len(rows))
    # Only the new row goes to the page, drawn from the formset's empty form, with the
    # management form and the row count brought up to date beside it.
    formset = row_formset(rows=[*rows, {}])
    row = formset.empty_form
    row.focus()
    html = render_to_string("drills/own_workflow.html#new-row", {
        "row": row, "index": "__prefix__", "number": len(rows) + 1, "formset": formset,
        "row_count": len(rows) + 1, "max_rows": MAX_OWN_ROWS,
    }, request=request).replace("__prefix__", str(len(rows)))
    return reswap(retarget(HttpResponse(html), "#own-rows"), "beforeend")


@require_POST
def own_update(request: HtmxHttpRequest) -> HttpResponse:
    formset = row_formset(request.POST)
    (rows, orphans), removed = formset.remove_marked(), formset.removed_index()
    focus = None if removed is None or not rows else min(removed, len(rows) - 1)
    notice = ""
    if orphans:
        numbers = " and ".join(str(n) for n in orphans)
        plural = len(orphans) > 1
        notice = (f"Interaction{'s' if plural else ''} {numbers} {'were' if plural else 'was'} "
                  "made while handling the one you removed, so now "
                  f"{'they hang' if plural else 'it hangs'} off the user's request. Give "
                  f"{'them' if plural else 'it'} another number if that is not right.")
    return redraw_builder(request, WorkflowForm(request.POST).typed(), rows, focus=focus,
                          notice=notice)


@require_POST
def own_preview(request: HtmxHttpRequest) -> HttpResponse:
    """The learner's design drawn from the rows as typed; nothing is checked or stored.

    Over htmx the hop count comes back with the drawing out of band. Without JavaScript the
    builder is drawn again with the rows kept and the drawing beside them.
    """
    rows = row_formset(request.POST).typed_rows()
    if request.htmx:
        return render(request, "drills/own_workflow.html#live", own_design(rows))
    return redraw_builder(request, WorkflowForm(request.POST).typed(), rows, focus=None)


@require_POST
def own_hand_in(request: HtmxHttpRequest) -> HttpResponse:
    form, formset = WorkflowForm(request.POST), row_formset(request.POST)
    if not validate_workflow(form, formset):
        if "token" in form.errors:
            return bad_request(request, str(form.errors["token"][0]))
        errors = error_summary(form, formset)
        # Nothing sent at all: leave a blank row to type into rather than an empty list.
        shown = formset if formset.total_form_count() else row_formset()
        context = own_context(request, form=form, formset=shown, rows=formset.typed_rows(),
                              invalid=True, errors=errors)
        if formset.structure_problems:
            # Already on the rows' own fields, as form errors.
            context["row_problems"] = {}
        return render_builder(request, context, status=422)
    rows = formset.rows()
    draft = {"name": form.cleaned_data["name"], "rows": rows,
             "proposal": form.cleaned_data["proposal"]}
    if not request.user.is_authenticated:
        return keep_for_login(request, draft)
    try:
        submission, created = services.submit_own_workflow(
            learner=request.user, **draft, token=form.cleaned_data["token"],
        )
    except services.OwnWorkflowUnavailable as exc:
        context = own_context(request, form=form, formset=formset, rows=rows,
                              unavailable=str(exc))
        return render_builder(request, context, status=503)
    request.session.pop(OWN_DRAFT_KEY, None)
    messages.success(
        request,
        "Your workflow was handed in. An instructor will grade it; it is listed under "
        "“Handed in”."
        if created else "This workflow was already handed in.",
    )
    # A new query string, so that the browser loads the page rather than only scrolling it.
    return client_redirect(request, f"{reverse('drills:own_workflow')}?handed_in={submission.pk}")


def keep_for_login(request: HtmxHttpRequest, draft: dict) -> HttpResponse:
    request.session[OWN_DRAFT_KEY] = draft
    messages.info(request, "Log in to hand in your workflow. Your rows are kept for you.")
    return client_redirect(request, f"{reverse('login')}?next={reverse('drills:own_workflow')}")


def client_redirect(request: HtmxHttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)

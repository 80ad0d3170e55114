"""What a learner reads before answering a drill gives no answer away.

The catalogue blurb, each interaction's text and each variant's title, change and texts are
read before any choice is made. They may set out facts and constraints, which the learner has
to reason from, but not which style an interaction has, how many calls the user waits for, or
the phrasing that only the calls the user waits for were given.
"""

import re
from pathlib import Path

import pytest
import yaml

CONTENT = Path(__file__).resolve().parent.parent / "drills" / "content"

STYLES = re.compile(r"\b(a?sync\w*|a?synchronous\w*)\b", re.IGNORECASE)
# Saying how many calls must complete, or that one does, settles the question for the learner.
COUNTS = re.compile(
    r"\b(only|just|one|two|three|four|five|\d+)\s+(\w+\s+)?(calls?|hops?)\b", re.IGNORECASE)
FINISHING = re.compile(
    r"\b(has|have|must|needs? to) (to )?(finish|complete|succeed)\w*|\bfinish\w* first\b|"
    r"\bwaits? for\b|\bwaiting for\b|\bbefore\b[^.;:]*\b(repl\w*|answer\w*|respon\w*|confirm\w*)",
    re.IGNORECASE)
# A reply spelled out ("and get back the id", "return its labels") was, in every drill, the mark
# of a call the key makes the user wait for.
REPLY = re.compile(r"\bgets? back\b|\breturn(s|ed|ing)?\b", re.IGNORECASE)
# Words that place a call in time relative to the user's reply.
TIMING = re.compile(
    r"\b(later|afterwards|in the background|behind the scenes|right away|immediately)\b",
    re.IGNORECASE)
# The blurb is the shortest text and is read in the catalogue: it gets the strictest check.
BLURB_EXTRA = re.compile(r"\b(wait\w*|events?|messages?|queue\w*|either|follows?)\b",
                         re.IGNORECASE)


def both_options(text: str) -> str:
    """The text less a "Sync: … Async: …" pair, which lays out both choices evenly."""
    if "Sync:" in text and "Async:" in text:
        return text.replace("Sync:", "").replace("Async:", "")
    return text


def leak(text: str, *, blurb: bool = False) -> str:
    """The first phrase that gives an answer away; empty when there is none."""
    checks = [STYLES, COUNTS, FINISHING, REPLY, TIMING, *([BLURB_EXTRA] if blurb else [])]
    shown = text if blurb else both_options(text)
    for check in checks:
        found = check.search(shown)
        if found:
            return found.group()
    return ""


def learner_texts() -> list[tuple[str, str, str]]:
    """(drill slug, where, text) for every text shown before the learner answers."""
    texts = []
    for path in sorted(CONTENT.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        slug = path.stem
        texts.append((slug, "summary", data["summary"]))
        for item in data["interactions"]:
            texts.append((slug, f"{item['key']}.exchange", item["exchange"]))
        for variant in data.get("variants") or []:
            where = f"variant {variant['slug']}"
            texts.append((slug, f"{where} title", variant["title"]))
            texts.append((slug, f"{where} change", variant["change"]))
            for key, change in (variant.get("interactions") or {}).items():
                if "exchange" in change:
                    texts.append((slug, f"{where} {key}.exchange", change["exchange"]))
    return texts


def test_every_drill_is_read():
    slugs = {slug for slug, _, _ in learner_texts()}
    assert len(slugs) == len(list(CONTENT.glob("*.yaml"))) >= 10


@pytest.mark.parametrize(("slug", "where", "text"), learner_texts(),
                         ids=lambda value: value if len(value) < 40 else "")
def test_no_text_read_before_answering_gives_an_answer_away(slug, where, text):
    found = leak(text, blurb=where == "summary")
    assert not found, f"{slug}, {where}: {found!r} in {text!r}"


@pytest.mark.parametrize("text", [
    "Only one call has to finish before the user sees it.",
    "Two hops stay on the path; the rest can happen later.",
    "Payments is sync, everything else asynchronous.",
    "The points must be taken before the booking is confirmed.",
    "Create the workspace and return its id.",
    "Book a collection and get back a tracking number.",
    "The page waits for Inventory.",
])
def test_the_check_catches_a_leak(text):
    assert leak(text)


@pytest.mark.parametrize("text", [
    'A shopper presses "Place order".',
    "Stock for the badges. Sync: the BFF asks on every search. Async: Inventory publishes "
    "StockChanged.",
    "No post may be visible to anyone until it has been screened.",
])
def test_the_check_lets_facts_and_even_options_through(text):
    assert not leak(text)


def test_a_blurb_is_held_to_more():
    assert leak("Delivery, search and analytics all follow from that tap.", blurb=True)
    assert not leak("Delivery, search and analytics all follow from that tap.")

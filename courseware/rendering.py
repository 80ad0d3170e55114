"""Markdown to sanitized HTML, done once when content is saved rather than on every request."""

import re
from dataclasses import dataclass, field

import markdown
import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl",
    "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd",
    "li", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "summary", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "loading"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
    "figure": {"aria-labelledby", "aria-describedby"},
}


@dataclass
class Rendered:
    html: str
    toc: list[dict] = field(default_factory=list)


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def render_markdown(source: str) -> Rendered:
    md = markdown.Markdown(
        extensions=["tables", "fenced_code", "attr_list", "md_in_html", "toc", "sane_lists"],
        extension_configs={"toc": {"toc_depth": "2-3"}},
    )
    html = md.convert(source or "")
    toc = [
        {"id": token["id"], "name": nh3.clean(token["name"], tags=set()), "level": token["level"]}
        # The toc extension sets toc_tokens on the converter; the stubs cannot know it.
        for token in _flatten(md.toc_tokens)  # type: ignore[attr-defined]
    ]
    return Rendered(html=scrolling_diagrams(keyboard_scrollable(sanitize(html))), toc=toc)


SCROLLER = '<div class="table-responsive">'


def keyboard_scrollable(html: str) -> str:
    # A wide table scrolls sideways on a phone; keyboard users can only scroll what takes focus.
    return html.replace(
        SCROLLER,
        '<div class="table-responsive" tabindex="0" role="region" aria-label="Table, scrolls '
        'sideways on narrow screens">',
    )


def _flatten(tokens: list[dict]) -> list[dict]:
    flat = []
    for token in tokens:
        flat.append(token)
        flat.extend(_flatten(token.get("children", [])))
    return flat


# A diagram image inside its link to the full-size file (lessons write them so).
DIAGRAM = re.compile(r'(<a href="[^"]+"[^>]*>\s*<img class="img-fluid"[^>]*>\s*</a>)')


def scrolling_diagrams(html: str) -> str:
    """On a phone a diagram shrunk to the screen is too small to read: it keeps a readable
    width and scrolls sideways, says so, and takes focus so keyboard users can scroll it."""
    return DIAGRAM.sub(
        '<p class="scroll-hint small text-body-secondary mb-1" aria-hidden="true">'
        '\u2190 Scroll sideways to see the whole diagram \u2192</p>'
        '<div class="diagram-scroll" tabindex="0" role="region" aria-label="Diagram, scrolls '
        'sideways on narrow screens">\\1</div>',
        html,
    )

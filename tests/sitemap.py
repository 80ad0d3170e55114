"""What the site offers, found the way a visitor finds it: every URL pattern in the resolver,
and the links and forms reachable by following links from the main pages.

Used by the fuzz pass and the page-wide security checks, so pages and endpoints added later are
covered without changing the tests.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

from django.apps import apps
from django.db.models import Model
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.utils.text import slugify

PROJECT_APPS = ("courseware", "accounts", "drills", "simulator", "grading", "lti", "notifications")
START_PAGES = ("/", "/drills/", "/simulator/", "/grading/", "/grading/mine/", "/accounts/login/",
               "/accounts/signup/", "/accounts/password/")


@dataclass(frozen=True)
class Route:
    """One URL pattern: its full route and its namespaced name."""

    route: str
    name: str

    @property
    def path(self) -> str:
        """The URL itself, for a route without parameters."""
        return "/" + self.route

    @property
    def params(self) -> list[tuple[str, str, str]]:
        """(converter, name, the path segment before it) for each parameter."""
        found = []
        for match in re.finditer(r"<(?:(\w+):)?(\w+)>", self.route):
            before = self.route[: match.start()].rstrip("/").rsplit("/", 1)[-1]
            found.append((match.group(1) or "str", match.group(2), before))
        return found


def routes() -> list[Route]:
    """Every URL pattern of the project's own apps (the admin is Django's)."""
    found: list[Route] = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                inner = ":".join(n for n in (namespace, pattern.namespace or "") if n)
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                # Named as resolve() names it: unnamed patterns by their view's dotted path.
                if pattern.name:
                    name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                else:
                    name = pattern.lookup_str
                found.append(Route(prefix + str(pattern.pattern), name))

    walk(get_resolver().url_patterns, "", "")
    return found


def route_of(path: str) -> str | None:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    if match.namespace == "admin" or match.app_name == "admin":
        return None
    return match.view_name


@dataclass
class Form:
    action: str
    method: str
    # (name, value) in page order; radios and selects contribute each option, marked.
    fields: list[tuple[str, str]] = field(default_factory=list)
    choices: dict[str, list[str]] = field(default_factory=dict)
    page: str = ""

    def defaults(self) -> list[tuple[str, str]]:
        """What a visitor sending the form unchanged (choosing the first option) would send."""
        data, seen = [], set()
        for name, value in self.fields:
            if name in self.choices:
                if name not in seen:
                    # A select's empty placeholder is no choice; a visitor picks a real one.
                    options = self.choices[name]
                    data.append((name, next((v for v in options if v), options[0])))
                    seen.add(name)
            else:
                data.append((name, value))
        return data

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(name for name, _ in self.fields))


class PageParser(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.links: list[str] = []
        self.forms: list[Form] = []
        self.scripts: list[dict[str, str | None]] = []
        self.handlers: list[str] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.handlers += [f"<{tag} {name}>" for name, _ in attrs if name.startswith("on")]
        self.handlers += [
            f"<{tag} {name}={value}>" for name, value in attrs
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:")
        ]
        if tag == "script":
            self.scripts.append(a)
        if tag == "a" and (href := a.get("href")):
            self.links.append(href)
        for attribute in ("hx-get", "hx-post"):
            if link := a.get(attribute):
                self.links.append(link)
        if tag == "form":
            method = (a.get("method") or "get").lower()
            self._form = Form(action=a.get("action") or self.page, method=method, page=self.page)
            self.forms.append(self._form)
            return
        form = self._form
        if tag == "option" and form is not None and self._select:
            form.choices[self._select].append(a.get("value") or "")
            return
        name = a.get("name")
        if form is None or not name:
            if tag == "select":
                self._select = None
            return
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            value = a.get("value") or ("on" if kind in ("checkbox", "radio") else "")
            if kind == "radio":
                form.choices.setdefault(name, []).append(value)
            form.fields.append((name, value))
        elif tag == "select":
            self._select = name
            form.choices.setdefault(name, [])
            form.fields.append((name, ""))
        elif tag == "textarea":
            self._textarea = name
            form.fields.append((name, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            if self._form and self._select and not self._form.choices.get(self._select):
                self._form.choices.pop(self._select, None)
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self._form:
            name = self._textarea
            # As browsers do, a newline right after <textarea> is not part of its value.
            text = data[1:] if data.startswith("\n") else data
            self._form.fields = [
                (n, text if n == name and not v else v) for n, v in self._form.fields
            ]


def parse(page_url: str, html: str) -> PageParser:
    parser = PageParser(page_url)
    parser.feed(html)
    return parser


def same_site(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "testserver"):
        return None
    if not parts.path.startswith("/") or parts.path.startswith("/static/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Crawl:
    pages: dict[str, str] = field(default_factory=dict)
    forms: list[Form] = field(default_factory=list)
    queries: dict[str, list[list[tuple[str, str]]]] = field(default_factory=dict)

    def urls_for(self, name: str) -> list[str]:
        urls = {url for url in self.pages if route_of(url) == name}
        urls |= {form.action for form in self.forms if route_of(form.action) == name}
        return sorted(urls)

    def forms_for(self, name: str) -> list[Form]:
        return [form for form in self.forms if route_of(form.action) == name]


def crawl(
    client: Client, *, per_route: int = 3, start: tuple[str, ...] = START_PAGES
) -> Crawl:
    """Follows same-site links breadth first from the start pages with plain GETs, visiting at
    most ``per_route`` pages of each URL pattern (one attempt page is much like another)."""
    result = Crawl()
    queue = deque(start)
    seen: set[str] = set()
    visits: dict[str, int] = {}
    while queue:
        url = queue.popleft()
        key = urlsplit(url).path + "?" + "&".join(sorted(k for k, _ in parse_qsl(
            urlsplit(url).query)))
        name = route_of(url)
        if key in seen or name is None or "logout" in url or visits.get(name, 0) >= per_route:
            continue
        seen.add(key)
        visits[name] = visits.get(name, 0) + 1
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        result.pages[url] = html
        parsed = parse(url, html)
        for form in parsed.forms:
            form.action = same_site(urljoin(url, form.action)) or form.action
            result.forms.append(form)
        for link in parsed.links:
            target = same_site(urljoin(url, link.split("#")[0]))
            if target:
                query = parse_qsl(urlsplit(target).query, keep_blank_values=True)
                if query and (route := route_of(target)):
                    result.queries.setdefault(route, []).append(query)
                queue.append(target)
    return result


def _model_name(model: type[Model]) -> str:
    name = model._meta.model_name
    assert name is not None  # Django sets it on every model class
    return name


def model_for(segment: str, route_name: str):
    """The project model a URL parameter most likely names, from the path segment before it
    (lessons/<slug>, submissions/<pk>) or, failing that, the route's name (mine/<pk> in
    grading:my_submission)."""
    candidates = [m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS]
    segment = segment.lower()
    for model in candidates:
        names = {_model_name(model), slugify(str(model._meta.verbose_name)),
                 slugify(str(model._meta.verbose_name_plural)), _model_name(model) + "s"}
        if segment in names or any(n.endswith("-" + segment) for n in names):
            return model
    name = route_name.split(":")[-1]
    for model in sorted(candidates, key=lambda m: -len(_model_name(m))):
        if _model_name(model) in name.replace("_", ""):
            return model
    return None


def populate(users, *, fill) -> None:
    """Sends every POST form each user can reach once, filled in by ``fill(form)`` as an
    ordinary visitor would, so the site holds answers, attempts, grades and the like."""
    for user in users:
        client = Client()
        client.force_login(user)
        # Every lesson, so each one's questions and problems are answered.
        for form in crawl(client, per_route=12).forms:
            if form.method == "post" and "logout" not in form.action:
                client.post(form.action, fill(form))
            if "_auth_user_id" not in client.session:
                client.force_login(user)

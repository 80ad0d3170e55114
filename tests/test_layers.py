"""The apps layer strictly: config <- courseware, accounts <- drills <- grading, simulator <-
lti, notifications.

Each app may use the ones below it and never one above: not by import, not by a model string
("grading.Submission"), not by a migration dependency, not by a template tag library or URL name
in its templates.
"""

import ast
import re
from pathlib import Path

import pytest
from django.db.migrations.loader import MigrationLoader

ROOT = Path(__file__).resolve().parent.parent
LEVEL = {"config": 0, "courseware": 1, "accounts": 1, "drills": 2, "grading": 3, "simulator": 3,
         "lti": 4, "notifications": 4}
# Where an app's templates live, besides the app folder itself.
TEMPLATES = {app: ROOT / "templates" / app for app in LEVEL}
MODEL_STRING = re.compile(r"""["']([a-z_]+)\.[A-Z]\w+["']""")
URL_NAME = re.compile(r"""\{%\s*url\s+["']([a-z_]+):""")
TAG_LIBRARY = re.compile(r"""\{%\s*load\s+([^%]+)%\}""")
# Tag libraries by the app that defines them.
LIBRARIES = {
    path.stem: path.parent.parent.name
    for path in ROOT.glob("*/templatetags/*.py")
    if path.stem != "__init__"
}


def sources(app: str) -> list[Path]:
    return [
        path for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    ]


def above(app: str, other: str) -> bool:
    return other in LEVEL and LEVEL[other] > LEVEL[app]


def imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") in {
            "import_module", "__import__"
        }:
            names.add("<import by name>")
    return names


@pytest.mark.parametrize("app", sorted(LEVEL))
def test_no_app_imports_one_above_it(app):
    wrong = []
    for path in sources(app):
        if path == ROOT / "config" / "urls.py":
            # The root URLconf is where the apps are put together.
            continue
        for name in imported_apps(path):
            if name == "<import by name>" or above(app, name):
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


@pytest.mark.parametrize("app", sorted(LEVEL))
def test_no_model_string_names_an_app_above(app):
    wrong = [
        f"{path.relative_to(ROOT)}: {match}"
        for path in sources(app)
        for match in MODEL_STRING.findall(path.read_text())
        if above(app, match)
    ]
    assert wrong == []


def test_no_migration_depends_on_an_app_above():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    wrong = [
        f"{app}.{name} depends on {dependency[0]}.{dependency[1]}"
        for (app, name), migration in loader.disk_migrations.items()
        if app in LEVEL
        for dependency in migration.dependencies
        if above(app, dependency[0])
    ]
    assert wrong == []


@pytest.mark.parametrize("app", ["courseware", "accounts", "drills"])
def test_templates_name_nothing_above_their_app(app):
    wrong = []
    for path in TEMPLATES[app].rglob("*.html") if TEMPLATES[app].exists() else []:
        text = path.read_text()
        for namespace in URL_NAME.findall(text):
            if above(app, namespace):
                wrong.append(f"{path.relative_to(ROOT)} links to {namespace}:")
        for libraries in TAG_LIBRARY.findall(text):
            for library in libraries.split():
                if above(app, LIBRARIES.get(library, "")):
                    wrong.append(f"{path.relative_to(ROOT)} loads {library}")
        for included in re.findall(r"""\{%\s*include\s+["']([a-z_]+)/""", text):
            if above(app, included):
                wrong.append(f"{path.relative_to(ROOT)} includes a {included} template")
    assert wrong == []

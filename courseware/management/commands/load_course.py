from importlib import import_module

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from courseware.loader import ContentError
from courseware.versioning import bump_content_version

# Each module reads its files with read_content() and writes them with apply(plan).
LOADERS = ["courseware.loader", "drills.loader"]


class Command(BaseCommand):
    help = "Load or update the course (lessons, questions, drills) from the content files."

    def handle(self, *args, **options) -> None:
        modules = [import_module(path) for path in LOADERS]
        try:
            plans = [module.read_content() for module in modules]
        except ContentError as exc:
            raise CommandError(f"Nothing was changed. {exc}") from exc
        with transaction.atomic():
            reports = [module.apply(plan) for module, plan in zip(modules, plans, strict=True)]
        for report in reports:
            for line in report.lines():
                self.stdout.write(line)
        if not any(report.changed for report in reports):
            self.stdout.write(self.style.SUCCESS("Course is up to date; nothing changed."))
        else:
            # Not every write sends a model signal (options are bulk-created).
            bump_content_version()
            self.stdout.write(self.style.SUCCESS("Course loaded."))

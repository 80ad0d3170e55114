from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from courseware import loader
from courseware.loader import ContentError
from courseware.versioning import bump_content_version


class Command(BaseCommand):
    help = "Load or update the course (lessons, questions, drills) from the content files."

    def handle(self, *args, **options) -> None:
        # Every app with content registers its loader when it starts (see its AppConfig).
        loaders = loader.registered()
        try:
            plans = [content_loader.read_content() for content_loader in loaders]
        except ContentError as exc:
            raise CommandError(f"Nothing was changed. {exc}") from exc
        with transaction.atomic():
            reports = [
                content_loader.apply(plan)
                for content_loader, plan in zip(loaders, plans, strict=True)
            ]
        for report in reports:
            for line in report.lines():
                self.stdout.write(line)
        if not any(report.changed for report in reports):
            self.stdout.write(self.style.SUCCESS("Course is up to date; nothing changed."))
        else:
            # Not every write sends a model signal (options are bulk-created).
            bump_content_version()
            self.stdout.write(self.style.SUCCESS("Course loaded."))

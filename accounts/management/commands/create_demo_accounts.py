from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.demo import DEMO_PASSWORD, create_demo_accounts


class Command(BaseCommand):
    help = "Create the demo accounts 'learner' and 'instructor' (development only)."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo accounts are only created when DEBUG is on.")
        for username, created in create_demo_accounts():
            state = "created" if created else "already there"
            self.stdout.write(f"{username} / {DEMO_PASSWORD}: {state}")

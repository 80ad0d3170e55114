"""Register an LTI 1.3 platform and print the addresses to paste into it."""

import json
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from lti.services import register_platform


class Command(BaseCommand):
    help = (
        "Registers an LTI 1.3 platform (or updates it) and prints, as one JSON object, the "
        "tool's login_url, launch_url, jwks_url and deep_linking_url for the platform's form."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--issuer", required=True)
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--deployment-id", required=True)
        parser.add_argument("--auth-url", required=True, help="the platform's OIDC login URL")
        parser.add_argument("--token-url", required=True, help="its OAuth2 token URL")
        parser.add_argument("--keyset-url", required=True, help="its public key set (JWKS)")
        parser.add_argument("--name", default="")
        parser.add_argument("--tool-url", default=settings.LTI_TOOL_URL,
                            help="where the platform reaches this site (default: LTI_TOOL_URL)")

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ("auth_url", "token_url", "keyset_url", "tool_url"):
            parts = urlsplit(options[name])
            if parts.scheme not in ("http", "https") or not parts.netloc or " " in options[name]:
                raise CommandError(f"--{name.replace('_', '-')} is not an http(s) URL: "
                                   f"{options[name]!r}") from None
        for name in ("issuer", "client_id", "deployment_id"):
            if not options[name].strip():
                raise CommandError(f"--{name.replace('_', '-')} may not be empty")
        registered = register_platform(
            issuer=options["issuer"].strip(),
            client_id=options["client_id"].strip(),
            deployment_id=options["deployment_id"].strip(),
            auth_url=options["auth_url"],
            token_url=options["token_url"],
            keyset_url=options["keyset_url"],
            name=options["name"],
        )
        base = options["tool_url"].rstrip("/")
        launch_url = base + reverse("lti:launch")
        self.stdout.write(json.dumps({
            "login_url": base + reverse("lti:login", args=[registered.registration.uuid]),
            "launch_url": launch_url,
            "jwks_url": base + reverse("lti:jwks"),
            "deep_linking_url": launch_url,
        }))

"""`manage.py create_maintainer NAME --email EMAIL`: a maintainer and its first API key.

The key is printed alone on the last line, so a script can take it with
`tail -n 1`; it is stored hashed and cannot be shown again.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email

from registry import services
from registry.models import Maintainer


class Command(BaseCommand):
    help = "Create a data set maintainer (an organisation) and print its first API key on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The organisation's name, unique.")
        parser.add_argument("--email", required=True, help="Where operational notices go.")

    def handle(self, *args: Any, name: str, email: str, **options: Any) -> None:
        name = name.strip()
        if not name:
            raise CommandError("Give the maintainer a name.")
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not an email address.") from None
        if Maintainer.objects.filter(name__iexact=name).exists():
            raise CommandError(
                f"A maintainer named {name!r} exists already; create a key for it in the admin instead."
            )
        maintainer, raw_key = services.maintainer_create(name=name, email=email)
        self.stdout.write(f"Created maintainer {maintainer.name!r} (id {maintainer.pk}, {maintainer.email}).")
        self.stdout.write("Its API key follows. Copy it now: it is stored hashed and cannot be shown again.")
        self.stdout.write(raw_key)

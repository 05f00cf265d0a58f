"""`manage.py hash_images`: the toolkit's hasher (removal-desk-hash), listed with the other commands.

`python manage.py hash_images ...` runs registry.hash_images directly, before any settings are
read (see manage.py), so it needs no SECRET_KEY or database; this class serves `manage.py help`
and call_command.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from registry import hash_images


class _Stream:
    """A text stream over Django's OutputWrapper that writes exactly what it is given."""

    def __init__(self, wrapper: OutputWrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> int:
        self.wrapper.write(text, ending="")
        return len(text)

    def flush(self) -> None:
        self.wrapper.flush()


class Command(BaseCommand):
    help = hash_images.DESCRIPTION

    def add_arguments(self, parser: CommandParser) -> None:
        hash_images.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            status = hash_images.run(
                options["paths"],
                url_prefix=options["url_prefix"],
                workers=int(options["workers"]),
                stdout=_Stream(self.stdout),
                stderr=_Stream(self.stderr),
            )
        except hash_images.UsageError as exc:
            raise CommandError(str(exc), returncode=2) from None
        if status:
            raise CommandError("some files could not be hashed (listed above)", returncode=status)

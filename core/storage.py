"""Private file storage: a folder no URL maps to (settings.PRIVATE_MEDIA_ROOT).

Works, identity documents and dispute evidence are kept here and streamed by views that check
who asks; nothing under it is ever served by a URL.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.functional import cached_property


class PrivateStorage(FileSystemStorage):
    """Under settings.PRIVATE_MEDIA_ROOT, read when the storage is first used (not at import) and
    again when the setting changes (tests), like Django's own storage does for MEDIA_ROOT."""

    def __init__(self) -> None:
        super().__init__(base_url=None)

    @cached_property
    def base_location(self) -> str:
        return str(settings.PRIVATE_MEDIA_ROOT)

    def _clear_cached_properties(self, setting: Any, **kwargs: Any) -> None:
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "PRIVATE_MEDIA_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)

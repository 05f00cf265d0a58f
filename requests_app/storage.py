"""Private storage for submitted works: a folder no URL maps to.

Files are streamed by `views.work_image` only to their artist and to
moderators.
"""

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.functional import cached_property


class PrivateStorage(FileSystemStorage):
    """Under settings.PRIVATE_MEDIA_ROOT, read when the storage is first used; no base URL."""

    def __init__(self) -> None:
        super().__init__(base_url=None)

    @cached_property
    def base_location(self) -> str:
        return str(settings.PRIVATE_MEDIA_ROOT)


private_storage = PrivateStorage()


def select_private_storage() -> FileSystemStorage:
    return private_storage

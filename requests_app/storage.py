"""Private storage for submitted works: a folder no URL maps to.

Files are streamed by `views.work_image` only to their artist and to
moderators.
"""

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.functional import LazyObject


class PrivateStorage(LazyObject):
    def _setup(self) -> None:
        self._wrapped = FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)


private_storage = PrivateStorage()


def select_private_storage() -> FileSystemStorage:
    return private_storage  # type: ignore[return-value]

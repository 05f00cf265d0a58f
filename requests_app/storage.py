"""Private storage for submitted works: a folder no URL maps to.

Files are streamed by `views.work_image` only to their artist and to
moderators.
"""

from django.core.files.storage import FileSystemStorage

from core.storage import PrivateStorage

private_storage = PrivateStorage()


def select_private_storage() -> FileSystemStorage:
    return private_storage

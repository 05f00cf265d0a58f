from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = _("Removal requests")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import receivers  # noqa: F401  (connects registry's signals)
        from .roles import ensure_moderator_group

        post_migrate.connect(ensure_moderator_group, sender=self)

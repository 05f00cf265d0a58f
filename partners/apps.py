from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = _("Partners (platforms filing opt-outs for their creators)")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (hears requests_app's signals)
        from .api import schema  # noqa: F401  (registers the OpenAPI auth scheme)
        from .roles import grant_moderators

        post_migrate.connect(grant_moderators, sender=self)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Registry (data sets, removals, maintainers)")

    def ready(self) -> None:
        from .api import schema  # noqa: F401  (registers the OpenAPI auth scheme)

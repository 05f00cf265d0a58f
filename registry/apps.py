from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry (data sets, removals, maintainers)"

    def ready(self) -> None:
        from .api import schema  # noqa: F401  (registers the OpenAPI auth scheme)

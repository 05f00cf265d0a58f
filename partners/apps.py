from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = "Partners (platforms filing opt-outs for their creators)"

    def ready(self) -> None:
        from .api import schema  # noqa: F401  (registers the OpenAPI auth scheme)

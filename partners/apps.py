from collections.abc import Callable
from typing import Any

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

    def seed_demo(self, say: Callable[[str], None], **seeded: Any) -> list[str]:
        """`manage.py seed_demo`'s partner (requests_app finds this hook among the apps, as it may
        not import partners): Demo Gallery set up (partners.demo), and the lines its summary prints."""
        from .demo import PartnerSeed, summary_lines

        demo = PartnerSeed(say).run(
            artist=seeded["artist"], moderator=seeded["moderator"], photos=seeded["photos"]
        )
        return summary_lines(demo, seeded["site"])

"""Per-artist quotas of the portfolio (PORTFOLIO_QUOTA_BYTES, PORTFOLIO_QUOTA_WORKS): whether one
more file fits, and the sentence saying why not, with the limit and what is used.

Checked twice: when a file is announced (its size against the bytes held and pending, so a
2 GB zip is refused before a byte is sent) and when each work is stored, under the artist's
lock (work_store), which is the check two uploads at once cannot both pass.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import formats
from django.utils.translation import gettext as _

from ..selectors import PortfolioUsage


def quota_problem(usage: PortfolioUsage, *, name: str, size: int) -> str:
    """Why a file of `size` bytes may not join a portfolio using `usage`, or ""."""
    works_limit, bytes_limit = settings.PORTFOLIO_QUOTA_WORKS, settings.PORTFOLIO_QUOTA_BYTES
    if usage.works >= works_limit:
        return _(
            "Your portfolio is full: it holds %(used)s works, the most one portfolio may hold "
            "(%(limit)s). Remove works you no longer need from it, or write to the moderators."
        ) % {
            "used": formats.number_format(usage.works, force_grouping=True),
            "limit": formats.number_format(works_limit, force_grouping=True),
        }
    if usage.total + size > bytes_limit:
        return _(
            "%(name)s (%(size)s) does not fit in your portfolio: it uses %(used)s of the %(limit)s "
            "one portfolio may hold. Remove works you no longer need from it, or write to the moderators."
        ) % {
            "name": name,
            "size": filesizeformat(size),
            "used": filesizeformat(usage.total),
            "limit": filesizeformat(bytes_limit),
        }
    return ""


def quota_full(usage: PortfolioUsage) -> str:
    """What the upload page says when nothing more fits, or ""."""
    if usage.works >= settings.PORTFOLIO_QUOTA_WORKS:
        return quota_problem(usage, name="", size=0)
    if usage.total >= settings.PORTFOLIO_QUOTA_BYTES:
        return _(
            "Your portfolio is full: it uses %(used)s of the %(limit)s one portfolio may hold. "
            "Remove works you no longer need from it, or write to the moderators."
        ) % {"used": filesizeformat(usage.total), "limit": filesizeformat(settings.PORTFOLIO_QUOTA_BYTES)}
    return ""


def quota_details(usage: PortfolioUsage) -> dict[str, Any]:
    """The limits and the use, for a JSON answer (docs/uploads.md)."""
    return {
        "quota": {"bytes": settings.PORTFOLIO_QUOTA_BYTES, "works": settings.PORTFOLIO_QUOTA_WORKS},
        "used": {"bytes": usage.total, "works": usage.works, "pending_bytes": usage.pending},
    }

"""How alike a suggested copy is, in words: which hashes agree, how close each is, how sure.

Shared by the artist's request page, the public search and the desk. The
signals are registry.matching.Hit.signals as stored on Match rows
([{"hash": "phash", "distance": 3, "bits": 64}, ...]).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

HASH_NAMES = {
    "phash": "pHash",
    "dhash": "dHash",
    "pdq": "PDQ",
    "phash-turned": "pHash",
    "phash-derived": "pHash",
}

# registry.matching.TURNED_VIEWS, as "the copy is …"
VIEW_LABELS = {
    "mirrored": gettext_lazy("mirrored"),
    "upside-down mirror": gettext_lazy("flipped upside down"),
    "turned 90°": gettext_lazy("turned 90°"),
    "turned 180°": gettext_lazy("turned 180°"),
    "turned 270°": gettext_lazy("turned 270°"),
    "mirrored diagonally": gettext_lazy("mirrored diagonally"),
    "mirrored on the other diagonal": gettext_lazy("mirrored on the other diagonal"),
}


def _as_dict(signal: Any) -> Mapping[str, Any]:
    return signal if isinstance(signal, Mapping) else signal.as_dict()


def agreement_text(signals: Iterable[Any], *, algorithm: str = "", distance: int | None = None) -> str:
    """ "pHash 3 of 64 bits differ, PDQ 18 of 256 bits differ", or "identical by every hash
    compared (pHash, PDQ)" when every
    agreeing hash sees no difference. Rows matched before verification (no signals) name the one
    hash that found them."""
    items = [_as_dict(s) for s in signals]
    if not items:
        if distance is None:
            return ""
        return _("%(hash)s only: %(distance)d of 64 bits differ") % {
            "hash": HASH_NAMES.get(algorithm, algorithm),
            "distance": distance,
        }
    names = [HASH_NAMES.get(s["hash"], s["hash"]) for s in items]
    if len(items) >= 2 and all(s["distance"] == 0 for s in items):
        return _("identical by every hash compared (%(hashes)s)") % {"hashes": ", ".join(names)}
    parts = [
        _("%(hash)s %(distance)d of %(bits)d bits differ")
        % {"hash": name, "distance": s["distance"], "bits": s["bits"]}
        for name, s in zip(names, items, strict=True)
    ]
    return ", ".join(parts)

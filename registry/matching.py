"""Matching a work against every registered data set's items: candidates, then verification.

A suggestion must mean what it says, so one hash is never enough:

1. Candidates. Each view of the work (`Probe`: the work as uploaded, and
   the work mirrored or turned by right angles, whose pHashes the hasher
   keeps in `phash_variants`) is searched through the per-data-set Hamming
   indexes (registry.index): pHash within MATCH_PHASH_MAX_DISTANCE (a turned
   view within MATCH_TURNED_PHASH_MAX_DISTANCE), and for the work as
   uploaded dHash within MATCH_DHASH_MAX_DISTANCE. The set is
   tiny (a few items per work). The derived views of registry.probes (the
   work cropped at a grid of offsets and scales, padded with borders of
   several greys, turned by small angles with their corners filled, cropped
   or expanded), whose pHash and dHash the work stores in `derived_hashes`,
   are searched too, in one batch, within MATCH_PROBE_PHASH_MAX_DISTANCE.
2. Verification. Every candidate item's hashes are read in one query; a
   candidate becomes a suggestion only when a second, independent hash
   agrees (`verify`): two of pHash, dHash and PDQ, each within its
   agreement distance (MATCH_*_AGREE_DISTANCE) and at least one within its
   strict one. A hash that carries little information never counts:
   a near-constant 64-bit code (fewer than MATCH_HASH_MIN_MINORITY_BITS ones
   or zeros), a dHash with fewer than MATCH_DHASH_MIN_TRANSITIONS changes
   along its rows (gradients and nearly blank images), or a PDQ of quality
   below MATCH_PDQ_MIN_QUALITY on the work's side (and on the item's, where the
   item has one: the API and imports take none, and a PDQ close to an
   informative one is not a blank image's). A candidate found by a derived
   view is verified with that view's own dHash and PDQ (the PDQ computed from
   the work's picture, only for views that found something), and needs every
   hash both sides have to agree: a work searched with ~90 views has ~90
   chances to land near an unrelated item. Only an item registered with
   a pHash alone (nothing else to compare) may be suggested on it, within
   MATCH_PHASH_ALONE_MAX_DISTANCE, and only for a work whose own dHash is
   informative; such suggestions say "low" confidence.

The thresholds were chosen on the distractor set (bench/distractors.py) and
the edited sample photos (bench/robustness.py); see bench/RESULTS.md.

The removal index (the pHash of every live removal) is searched the other
way, by re-matching and by the lookup endpoint.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import numpy as np
from django.conf import settings
from PIL import Image

from . import probes as derived_views
from .hashing import hamming64, hashes_of_image, pdq_distance
from .index import DatasetIndexes, HammingIndex
from .models import DatasetItem, Removal, RemovalState

_lock = threading.Lock()
_indexes: dict[str, DatasetIndexes] = {}

# The views whose pHash `phash_variants` holds, in its order, as Pillow transposes of the work.
TURNED_VIEWS: tuple[tuple[str, Image.Transpose], ...] = (
    ("mirrored", Image.Transpose.FLIP_LEFT_RIGHT),
    ("upside-down mirror", Image.Transpose.FLIP_TOP_BOTTOM),
    ("turned 90°", Image.Transpose.ROTATE_90),
    ("turned 180°", Image.Transpose.ROTATE_180),
    ("turned 270°", Image.Transpose.ROTATE_270),
    ("mirrored diagonally", Image.Transpose.TRANSPOSE),
    ("mirrored on the other diagonal", Image.Transpose.TRANSVERSE),
)

HIGH, MEDIUM, LOW = "high", "medium", "low"
_ROW_NEIGHBOURS = 0x7F7F7F7F7F7F7F7F  # bit pairs inside one byte (one row of dHash's 8x8 grid)


@dataclass(frozen=True)
class Signal:
    """One hash that agrees: which, how many bits differ, of how many."""

    hash: str  # "phash", "dhash" or "pdq"
    distance: int
    bits: int

    def as_dict(self) -> dict[str, Any]:
        return {"hash": self.hash, "distance": self.distance, "bits": self.bits}


@dataclass(frozen=True)
class Hit:
    item_id: int
    distance: int  # of the hash that found the candidate (`algorithm`)
    algorithm: str = "phash"  # "phash", "dhash", "phash-turned" or "phash-derived"
    view: str = "original"
    signals: tuple[Signal, ...] = ()
    confidence: str = HIGH


@dataclass(frozen=True)
class Probe:
    """One view of a work: as uploaded, or derived from it (mirrored, turned; cropped, padded,
    turned by a small angle: `derived`, see registry.probes)."""

    view: str
    phash: int | None
    dhash: int | None = None
    pdq: bytes | None = None
    pdq_quality: int | None = None
    derived: bool = False


@dataclass
class _Candidate:
    item_id: int
    probe: int  # index into the probes
    algorithm: str
    distance: int


@dataclass
class _Probes:
    """The work's probes; the turned ones get their dHash and PDQ, the derived ones their PDQ,
    only when a candidate needs them."""

    probes: list[Probe]
    image: Callable[[], Image.Image | None] | None = None
    _image: Image.Image | None = None
    _working: Image.Image | None = None
    _loaded: bool = False
    _completed: set[int] = field(default_factory=set)

    def get(self, index: int) -> Probe:
        probe = self.probes[index]
        if index == 0 or index in self._completed:
            return probe
        self._completed.add(index)
        image = self._load()
        if probe.derived:
            view = derived_views.view_named(probe.view)
            if image is not None and view is not None:
                if self._working is None:
                    self._working = derived_views.working_copy(image)
                h = hashes_of_image(view.render(self._working), variants=False)
                # pHash and dHash stay the stored ones (computed on a smaller copy, within a bit or two).
                probe = Probe(probe.view, probe.phash, probe.dhash, h.pdq, h.pdq_quality, derived=True)
                self.probes[index] = probe
        elif image is not None:
            transpose = dict(TURNED_VIEWS)[probe.view]
            h = hashes_of_image(image.transpose(transpose))
            # The pHash stays the one searched (the same bits, within a rounding).
            probe = Probe(probe.view, probe.phash, h.dhash, h.pdq, h.pdq_quality)
            self.probes[index] = probe
        return probe

    def _load(self) -> Image.Image | None:
        if not self._loaded:
            self._loaded = True
            try:
                self._image = self.image() if self.image is not None else None
            except (OSError, ValueError):  # gone or unreadable since it was hashed: pHash alone
                self._image = None
        return self._image


def indexes(field: str) -> DatasetIndexes:
    """This process's index cache for one hash field (built or loaded on first use)."""
    with _lock:
        if field not in _indexes:
            _indexes[field] = DatasetIndexes(field=field, check_interval=settings.MATCH_INDEX_CHECK_SECONDS)
        return _indexes[field]


def search_phash(code: int, *, max_distance: int) -> list[Hit]:
    return [Hit(item_id, d) for item_id, d in indexes("phash").search_all(code, max_distance)]


# --- how much a hash says ---------------------------------------------------------


def near_constant(code: int) -> bool:
    """A 64-bit code with fewer than MATCH_HASH_MIN_MINORITY_BITS ones or zeros (flat, blank images)."""
    ones = (code & 0xFFFFFFFFFFFFFFFF).bit_count()
    return min(ones, 64 - ones) < settings.MATCH_HASH_MIN_MINORITY_BITS


def dhash_transitions(code: int) -> int:
    """How often dHash's bits change along its 8 rows (0 to 56): a gradient's rows barely do."""
    code &= 0xFFFFFFFFFFFFFFFF
    return ((code ^ (code >> 1)) & _ROW_NEIGHBOURS).bit_count()


def phash_informative(code: int | None) -> TypeGuard[int]:
    return code is not None and not near_constant(code)


def dhash_informative(code: int | None) -> TypeGuard[int]:
    return (
        code is not None
        and not near_constant(code)
        and dhash_transitions(code) >= settings.MATCH_DHASH_MIN_TRANSITIONS
    )


def pdq_informative(pdq: bytes | memoryview | None, quality: int | None, *, unknown: bool = False) -> bool:
    """A PDQ with its quality at least MATCH_PDQ_MIN_QUALITY; `unknown`: whether a PDQ without
    its quality counts (an item's: the API and imports take no quality, so the work's decides)."""
    if pdq is None:
        return False
    return unknown if quality is None else quality >= settings.MATCH_PDQ_MIN_QUALITY


# --- verification -------------------------------------------------------------------


def verify(
    probe: Probe,
    *,
    phash: int | None,
    dhash: int | None,
    pdq: bytes | memoryview | None,
    pdq_quality: int | None,
    work_dhash: int | None = None,
) -> tuple[tuple[Signal, ...], str] | None:
    """The hashes of one view of a work and of one item that agree, and how sure that makes us;
    None when this is not a suggestion.

    `work_dhash`: the dHash of the work as uploaded (for the pHash-alone rule, which
    trusts a pHash only for a work whose own picture carries detail).

    A derived view (`probe.derived`: cropped, padded, turned by a small angle) needs every
    hash that both sides have, and that carries information, to agree, and is never
    suggested on a pHash alone.
    """
    agree: list[tuple[Signal, bool]] = []  # (signal, within its strict distance)
    compared = 0
    if phash_informative(probe.phash) and phash_informative(phash):
        compared += 1
        d = hamming64(probe.phash, phash)
        if d <= settings.MATCH_PHASH_AGREE_DISTANCE:
            agree.append((Signal("phash", d, 64), d <= settings.MATCH_PHASH_MAX_DISTANCE))
    if dhash_informative(probe.dhash) and dhash_informative(dhash):
        compared += 1
        d = hamming64(probe.dhash, dhash)
        if d <= settings.MATCH_DHASH_AGREE_DISTANCE:
            agree.append((Signal("dhash", d, 64), d <= settings.MATCH_DHASH_MAX_DISTANCE))
    if pdq_informative(probe.pdq, probe.pdq_quality) and pdq_informative(pdq, pdq_quality, unknown=True):
        compared += 1
        d = pdq_distance(probe.pdq, pdq)  # type: ignore[arg-type]
        if d <= settings.MATCH_PDQ_AGREE_DISTANCE:
            agree.append((Signal("pdq", d, 256), d <= settings.MATCH_PDQ_MAX_DISTANCE))
    signals = tuple(s for s, _ in agree)
    strict = sum(1 for _, close in agree if close)
    if probe.derived:
        if len(agree) >= 2 and len(agree) == compared and strict:
            return signals, HIGH if strict >= 2 or len(agree) >= 3 else MEDIUM
        return None
    if len(agree) >= 2 and strict:
        return signals, HIGH if strict >= 2 or len(agree) >= 3 else MEDIUM
    # An item registered with a pHash and nothing else: nothing can agree or disagree.
    if (
        dhash is None
        and pdq is None
        and len(agree) == 1
        and signals[0].hash == "phash"
        and signals[0].distance <= settings.MATCH_PHASH_ALONE_MAX_DISTANCE
        and dhash_informative(work_dhash if work_dhash is not None else probe.dhash)
    ):
        return signals, LOW
    return None


def _candidates(probes: Sequence[Probe], *, dhash: int | None) -> list[_Candidate]:
    """Items within the strict pHash distance of the work as uploaded, within
    MATCH_TURNED_PHASH_MAX_DISTANCE of a turned view, within MATCH_PROBE_PHASH_MAX_DISTANCE
    of a derived view (each kind in one batch), or within the dHash distance of the work."""
    found: list[_Candidate] = []
    groups = (
        ("phash", settings.MATCH_PHASH_MAX_DISTANCE, lambda i, p: i == 0),
        ("phash-turned", settings.MATCH_TURNED_PHASH_MAX_DISTANCE, lambda i, p: i > 0 and not p.derived),
        ("phash-derived", settings.MATCH_PROBE_PHASH_MAX_DISTANCE, lambda i, p: p.derived),
    )
    for algorithm, radius, member in groups:
        chosen = [(i, p.phash) for i, p in enumerate(probes) if member(i, p) and phash_informative(p.phash)]
        codes = [code for _, code in chosen if code is not None]
        for (index, _), hits in zip(chosen, indexes("phash").search_all_many(codes, radius), strict=True):
            found.extend(_Candidate(item_id, index, algorithm, d) for item_id, d in hits)
    if dhash_informative(dhash):
        for item_id, d in indexes("dhash").search_all(dhash, settings.MATCH_DHASH_MAX_DISTANCE):
            found.append(_Candidate(item_id, 0, "dhash", d))
    return found


# Derived views whose PDQ is computed for one item at most, closest first: a copy is found by
# several neighbouring views (a crop of 90% by the 90% crops around it), and one verifies it.
DERIVED_PDQ_TRIES = 3


def _may_agree(probe: Probe, phash: int | None, dhash: int | None) -> bool:
    """Whether no informative pHash or dHash pair of the probe and the item is beyond its agreement
    distance (a derived view needs every hash to agree: see verify)."""
    far_phash = (
        phash_informative(probe.phash)
        and phash_informative(phash)
        and hamming64(probe.phash, phash) > settings.MATCH_PHASH_AGREE_DISTANCE
    )
    far_dhash = (
        dhash_informative(probe.dhash)
        and dhash_informative(dhash)
        and hamming64(probe.dhash, dhash) > settings.MATCH_DHASH_AGREE_DISTANCE
    )
    return not (far_phash or far_dhash)


def _in_verification_order(
    candidates: Sequence[_Candidate], probes: Sequence[Probe], rows: dict[int, tuple[Any, ...]]
) -> list[_Candidate]:
    """The work as uploaded and its turned views first (by probe, then distance), then the derived
    views, closest first by pHash and dHash together."""
    plain = sorted(
        (c for c in candidates if not probes[c.probe].derived), key=lambda c: (c.probe, c.distance)
    )

    def closeness(c: _Candidate) -> tuple[int, int, int]:
        probe, row = probes[c.probe], rows.get(c.item_id)
        d = c.distance
        if row is not None and probe.dhash is not None and row[1] is not None:
            d += hamming64(probe.dhash, row[1])
        return d, c.probe, c.item_id

    return plain + sorted((c for c in candidates if probes[c.probe].derived), key=closeness)


_ALGORITHM_ORDER = {"phash": 0, "dhash": 1, "phash-turned": 2, "phash-derived": 3}
_CONFIDENCE_ORDER = {HIGH: 0, MEDIUM: 1, LOW: 2}


def search_work(
    *,
    phash: int,
    dhash: int | None,
    phash_variants: Sequence[int] = (),
    pdq: bytes | memoryview | None = None,
    pdq_quality: int | None = None,
    image: Callable[[], Image.Image | None] | None = None,
    derived_hashes: Sequence[Sequence[Any]] = (),
) -> list[Hit]:
    """The items that look like this work, verified (see the module docstring), closest first.

    `phash_variants`: the pHash of the work mirrored and turned by right angles
    (hashing.hashes_of_image), in TURNED_VIEWS order. `image`: returns the work's
    picture (decoded as for hashing), called at most once and only when an item
    found through a turned view needs that view's dHash and PDQ to be verified (or a
    derived view its PDQ). `derived_hashes`: (view name, pHash, dHash) of each derived
    view (registry.probes.derived_hashes), as the work stores them.
    When several views find one item, the one with the most agreeing hashes wins
    (then the direct pHash, dHash, turned, then the smaller distance); a derived
    view only for an item that neither the work as uploaded nor a turned view found.
    """
    work_pdq = bytes(pdq) if pdq is not None else None
    probes = _Probes(
        [Probe("original", phash, dhash, work_pdq, pdq_quality)]
        + [Probe(view, code) for (view, _), code in zip(TURNED_VIEWS, phash_variants, strict=False)]
        + [Probe(str(view), int(ph), int(dh), derived=True) for view, ph, dh in derived_hashes],
        image=image,
    )
    candidates = _candidates(probes.probes, dhash=dhash)
    if not candidates:
        return []
    rows = {
        pk: (item_phash, item_dhash, item_pdq, quality)
        for pk, item_phash, item_dhash, item_pdq, quality in DatasetItem.objects.filter(
            pk__in={c.item_id for c in candidates}
        ).values_list("pk", "phash", "dhash", "pdq", "pdq_quality")
    }
    best: dict[int, tuple[tuple[int, int, int, int], Hit]] = {}
    pdq_tried: dict[int, int] = {}  # item -> derived views whose PDQ was computed for it
    for candidate in _in_verification_order(candidates, probes.probes, rows):
        row = rows.get(candidate.item_id)
        if row is None:
            continue  # deleted since the index was read
        item_phash, item_dhash, item_pdq, quality = row
        if probes.probes[candidate.probe].derived:
            if candidate.item_id in best:
                continue  # suggested on the work as uploaded or turned already: that is what it shows
            # Every hash must agree for a derived view: a pHash or dHash that does not is a
            # no without the view's PDQ, which costs a render and 5-20 ms.
            if not _may_agree(probes.probes[candidate.probe], item_phash, item_dhash):
                continue
            if pdq_tried.get(candidate.item_id, 0) >= DERIVED_PDQ_TRIES:
                continue
            pdq_tried[candidate.item_id] = pdq_tried.get(candidate.item_id, 0) + 1
        probe = probes.get(candidate.probe)
        verdict = verify(
            probe,
            phash=item_phash,
            dhash=item_dhash,
            pdq=bytes(item_pdq) if item_pdq is not None else None,
            pdq_quality=quality,
            work_dhash=dhash,
        )
        if verdict is None:
            continue
        signals, confidence = verdict
        hit = Hit(candidate.item_id, candidate.distance, candidate.algorithm, probe.view, signals, confidence)
        rank = (
            _CONFIDENCE_ORDER[confidence],
            -len(signals),
            _ALGORITHM_ORDER[candidate.algorithm],
            candidate.distance,
        )
        held = best.get(candidate.item_id)
        if held is None or rank < held[0]:
            best[candidate.item_id] = (rank, hit)
    return sorted((hit for _, hit in best.values()), key=lambda h: (h.distance, h.item_id))


class RemovalIndex:
    """A process-local Hamming index over the pHash of every live (not revoked) removal.

    Removals are only appended, so new rows are added by primary key on each
    use; a revocation (or a row committed late, below the highest key held)
    changes the live count, which the periodic check turns into a rebuild.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index = HammingIndex()
        self._max_pk = 0
        self._live = 0
        self._checked_at = -math.inf

    def get(self) -> HammingIndex:
        with self._lock:
            rows = list(
                Removal.objects.filter(pk__gt=self._max_pk, phash__isnull=False)
                .exclude(state=RemovalState.REVOKED)
                .order_by("pk")
                .values_list("pk", "phash")
            )
            if rows:
                self._index.add(
                    np.array([r[0] for r in rows], dtype=np.int64),
                    np.array([r[1] for r in rows], dtype=np.int64),
                )
                self._max_pk = rows[-1][0]
                self._live += len(rows)
            # Counting every live removal is a scan: on the lookup endpoint's path it
            # runs at most every MATCH_INDEX_CHECK_SECONDS, like the item indexes' check.
            now = time.monotonic()
            if now - self._checked_at >= settings.MATCH_INDEX_CHECK_SECONDS:
                self._checked_at = now
                live = (
                    Removal.objects.filter(pk__lte=self._max_pk, phash__isnull=False)
                    .exclude(state=RemovalState.REVOKED)
                    .count()
                )
                if live != self._live:
                    self._rebuild()
            return self._index

    def _rebuild(self) -> None:
        rows = list(
            Removal.objects.filter(phash__isnull=False)
            .exclude(state=RemovalState.REVOKED)
            .order_by("pk")
            .values_list("pk", "phash")
        )
        self._index = HammingIndex.build(
            np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=np.int64)
        )
        self._max_pk = rows[-1][0] if rows else 0
        self._live = len(rows)


_removal_index = RemovalIndex()


def removal_index() -> HammingIndex:
    return _removal_index.get()

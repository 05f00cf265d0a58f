"""Matching a work against every registered data set's items: candidates, then verification.

A suggestion must mean what it says, so one hash is never enough:

1. Candidates. Each view of the work (`Probe`: the work as uploaded, and
   the work mirrored or turned by right angles, whose pHashes the hasher
   keeps in `phash_variants`) is searched through the per-data-set Hamming
   indexes (registry.index): pHash within MATCH_PHASH_MAX_DISTANCE, and for
   the work as uploaded dHash within MATCH_DHASH_MAX_DISTANCE. The set is
   tiny (a few items per work); later generators (crops, pads) add their
   probes here and go through the same verification.
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
   informative one is not a blank image's). Only an item registered with
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
from typing import Any

import numpy as np
from django.conf import settings
from PIL import Image

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
    algorithm: str = "phash"  # "phash", "dhash" or "phash-turned"
    view: str = "original"
    signals: tuple[Signal, ...] = ()
    confidence: str = HIGH


@dataclass(frozen=True)
class Probe:
    """One view of a work: as uploaded, or derived from it (mirrored, turned; later crops, pads)."""

    view: str
    phash: int | None
    dhash: int | None = None
    pdq: bytes | None = None
    pdq_quality: int | None = None


@dataclass
class _Candidate:
    item_id: int
    probe: int  # index into the probes
    algorithm: str
    distance: int


@dataclass
class _Probes:
    """The work's probes; the turned ones get their dHash and PDQ only when a candidate needs them."""

    probes: list[Probe]
    image: Callable[[], Image.Image | None] | None = None
    _image: Image.Image | None = None
    _loaded: bool = False
    _completed: set[int] = field(default_factory=set)

    def get(self, index: int) -> Probe:
        probe = self.probes[index]
        if index == 0 or index in self._completed:
            return probe
        self._completed.add(index)
        image = self._load()
        if image is not None:
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


def phash_informative(code: int | None) -> bool:
    return code is not None and not near_constant(code)


def dhash_informative(code: int | None) -> bool:
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
    """
    agree: list[tuple[Signal, bool]] = []  # (signal, within its strict distance)
    if phash_informative(probe.phash) and phash_informative(phash):
        d = hamming64(probe.phash, phash)  # type: ignore[arg-type]
        if d <= settings.MATCH_PHASH_AGREE_DISTANCE:
            agree.append((Signal("phash", d, 64), d <= settings.MATCH_PHASH_MAX_DISTANCE))
    if dhash_informative(probe.dhash) and dhash_informative(dhash):
        d = hamming64(probe.dhash, dhash)  # type: ignore[arg-type]
        if d <= settings.MATCH_DHASH_AGREE_DISTANCE:
            agree.append((Signal("dhash", d, 64), d <= settings.MATCH_DHASH_MAX_DISTANCE))
    if pdq_informative(probe.pdq, probe.pdq_quality) and pdq_informative(pdq, pdq_quality, unknown=True):
        d = pdq_distance(probe.pdq, pdq)  # type: ignore[arg-type]
        if d <= settings.MATCH_PDQ_AGREE_DISTANCE:
            agree.append((Signal("pdq", d, 256), d <= settings.MATCH_PDQ_MAX_DISTANCE))
    signals = tuple(s for s, _ in agree)
    strict = sum(1 for _, close in agree if close)
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
    """Items within the strict pHash distance of any probe, or the dHash distance of the work."""
    found: list[_Candidate] = []
    phash_max = settings.MATCH_PHASH_MAX_DISTANCE
    for index, probe in enumerate(probes):
        if not phash_informative(probe.phash):
            continue
        algorithm = "phash" if index == 0 else "phash-turned"
        for item_id, d in indexes("phash").search_all(probe.phash, phash_max):  # type: ignore[arg-type]
            found.append(_Candidate(item_id, index, algorithm, d))
    if dhash_informative(dhash):
        for item_id, d in indexes("dhash").search_all(dhash, settings.MATCH_DHASH_MAX_DISTANCE):  # type: ignore[arg-type]
            found.append(_Candidate(item_id, 0, "dhash", d))
    return found


_ALGORITHM_ORDER = {"phash": 0, "dhash": 1, "phash-turned": 2}
_CONFIDENCE_ORDER = {HIGH: 0, MEDIUM: 1, LOW: 2}


def search_work(
    *,
    phash: int,
    dhash: int | None,
    phash_variants: Sequence[int] = (),
    pdq: bytes | memoryview | None = None,
    pdq_quality: int | None = None,
    image: Callable[[], Image.Image | None] | None = None,
) -> list[Hit]:
    """The items that look like this work, verified (see the module docstring), closest first.

    `phash_variants`: the pHash of the work mirrored and turned by right angles
    (hashing.hashes_of_image), in TURNED_VIEWS order. `image`: returns the work's
    picture (decoded as for hashing), called at most once and only when an item
    found through a turned view needs that view's dHash and PDQ to be verified.
    When several views find one item, the one with the most agreeing hashes wins
    (then the direct pHash, dHash, turned, then the smaller distance).
    """
    work_pdq = bytes(pdq) if pdq is not None else None
    probes = _Probes(
        [Probe("original", phash, dhash, work_pdq, pdq_quality)]
        + [Probe(view, code) for (view, _), code in zip(TURNED_VIEWS, phash_variants, strict=False)],
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
    for candidate in sorted(candidates, key=lambda c: (c.probe, c.distance)):
        row = rows.get(candidate.item_id)
        if row is None:
            continue  # deleted since the index was read
        item_phash, item_dhash, item_pdq, quality = row
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

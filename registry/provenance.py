"""What an uploaded image says about AI training itself, read before its metadata is stripped.

Two statements a file can carry:

- a C2PA manifest (read with c2pa-python, the Content Authenticity Initiative's library) holding
  the CAWG training-and-data-mining assertion `cawg.training-mining` (or its C2PA 1.x name
  `c2pa.training-mining`), whose entries `cawg.ai_training`, `cawg.ai_generative_training`,
  `cawg.ai_inference` and `cawg.data_mining` are each `allowed`, `notAllowed` or `constrained`;
- IPTC's PLUS `plus:DataMining` property in the XMP packet, a URI of the PLUS vocabulary
  (`http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING`, ...).

Each is summed up in the IETF AI-preferences vocabulary, `train-ai` allowed / disallowed /
unknown ("disallow wins" when statements differ), and kept with what the file said, so
moderators see it as evidence beside the work. Nothing here refuses an upload: a manifest that
is malformed, unsigned or too big is recorded as such ("could not be read") and the work is
stored as any other.

Bounded: C2PA is looked for only when the bytes hold its box type (`c2pa`), the manifest's JSON
is read up to MAX_MANIFEST_CHARS, and at most MAX_ENTRIES entries are kept; the XMP packet is
scanned (no XML parser: no entity expansion) up to MAX_XMP_BYTES.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

MAX_MANIFEST_CHARS = 1_000_000
MAX_XMP_BYTES = 256 * 1024
MAX_ENTRIES = 16
MAX_TEXT = 500

ALLOWED, DISALLOWED, UNKNOWN = "allowed", "disallowed", "unknown"
_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_TRAINING_LABELS = ("cawg.training-mining", "c2pa.training-mining")
# The entries that speak of training (the others, inference and data mining, are kept and shown).
_TRAINING_ENTRIES = ("ai_training", "ai_generative_training")
_USE = {"allowed": ALLOWED, "notAllowed": DISALLOWED, "constrained": UNKNOWN}

_XMP = re.compile(rb"<x:xmpmeta\b.{0,%d}?</x:xmpmeta>" % MAX_XMP_BYTES, re.DOTALL)
_DATA_MINING = re.compile(
    r"""plus:DataMining\s*=\s*["']([^"'<>]{1,300})["']"""
    r"""|<plus:DataMining\b[^>]*?(?:rdf:resource\s*=\s*["']([^"'<>]{1,300})["'][^>]*)?/?>\s*([^<]{0,300})""",
)
_PLUS = "http://ns.useplus.org/ldf/vocab/"


def _text(value: Any) -> str:
    """Printable, bounded text of whatever a file put there."""
    text = "".join(ch for ch in str(value) if ch.isprintable())
    return text[:MAX_TEXT]


def disallow_wins(*values: str) -> str:
    if DISALLOWED in values:
        return DISALLOWED
    return ALLOWED if ALLOWED in values else UNKNOWN


def read_embedded(data: bytes, fmt: str) -> dict[str, Any]:
    """{"train_ai": allowed|disallowed|unknown, "c2pa": {...}?, "iptc": {...}?}; {} when the file
    says nothing about AI training."""
    found: dict[str, Any] = {}
    if b"c2pa" in data and fmt in _MIME:
        found["c2pa"] = _c2pa(data, _MIME[fmt])
    iptc = _iptc(data)
    if iptc:
        found["iptc"] = iptc
    if not found:
        return {}
    found["train_ai"] = disallow_wins(*(part.get("train_ai", UNKNOWN) for part in found.values()))
    return found


def _c2pa(data: bytes, mime: str) -> dict[str, Any]:
    import c2pa  # a native library of some size: loaded only for the files that carry a manifest

    try:
        reader = c2pa.Reader(mime, io.BytesIO(data))
        try:
            text = reader.json()
            state = str(reader.get_validation_state() or "")
        finally:
            reader.close()
    except Exception as exc:  # c2pa.C2paError and its kinds, or what a hostile box provokes
        return {"error": _text(f"the C2PA manifest could not be read: {exc}"), "train_ai": UNKNOWN}
    if len(text) > MAX_MANIFEST_CHARS:
        return {"error": f"the C2PA manifest is over {MAX_MANIFEST_CHARS:,} characters", "train_ai": UNKNOWN}
    try:
        store = json.loads(text)
        manifest = store["manifests"][store["active_manifest"]]
    except (ValueError, KeyError, TypeError):
        return {"error": "the C2PA manifest store has no active manifest", "train_ai": UNKNOWN}
    signer = manifest.get("signature_info") or {}
    out: dict[str, Any] = {
        "signed_by": _text(signer.get("common_name") or signer.get("issuer") or ""),
        "validation": _text(state),
        "problems": [_text(s.get("code", "")) for s in (store.get("validation_status") or [])[:MAX_ENTRIES]],
        "entries": {},
    }
    for assertion in manifest.get("assertions") or []:
        if not isinstance(assertion, dict) or assertion.get("label") not in _TRAINING_LABELS:
            continue
        entries = (assertion.get("data") or {}).get("entries") or {}
        if not isinstance(entries, dict):
            continue
        for name, entry in list(entries.items())[:MAX_ENTRIES]:
            entry = entry if isinstance(entry, dict) else {}
            out["entries"][_text(name)] = {
                "use": _text(entry.get("use", "")),
                **({"constraint": _text(entry["constraint_info"])} if entry.get("constraint_info") else {}),
            }
    training = [
        _USE.get(entry["use"], UNKNOWN)
        for name, entry in out["entries"].items()
        if name.split(".", 1)[-1] in _TRAINING_ENTRIES
    ]
    out["train_ai"] = disallow_wins(*training)
    return out


def _iptc(data: bytes) -> dict[str, Any]:
    packet = _XMP.search(data)
    if packet is None:
        return {}
    text = packet.group(0).decode("utf-8", errors="replace")
    match = _DATA_MINING.search(text)
    if match is None:
        return {}
    value = _text(next((g for g in match.groups() if g and g.strip()), "").strip())
    if not value:
        return {}
    term = value.removeprefix(_PLUS).upper()
    if term.startswith("DMI-PROHIBITED") or term in (
        "DMI-ALLOWED-NOAIMLTRAINING",
        "DMI-ALLOWED-NOGENAIMLTRAINING",
    ):
        train_ai = DISALLOWED
    elif term == "DMI-ALLOWED":
        train_ai = ALLOWED
    else:  # DMI-UNSPECIFIED, or a value outside the vocabulary
        train_ai = UNKNOWN
    return {"data_mining": value, "train_ai": train_ai}

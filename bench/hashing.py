"""Hashing speed and drift on 12 MP JPEGs: the maintainers' hasher end to end, and in one process.

End to end: `removal-desk-hash FOLDER` as a process (start-up, every file read, pHash + dHash +
PDQ each, a process per core) against the baseline, also a process: a Python that opens each
file with PIL, decodes it fully and calls `imagehash.phash`. In one process: `compute_hashes`
against `imagehash.phash(Image.open(f))`. Drift: bits between our hash and the same hash of
the full decode.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import imagehash
import numpy as np
import pdqhash
from PIL import Image, ImageOps
from removal_desk_toolkit.hashing import DRAFT_SIZE, compute_hashes, hamming64, hex_to_code, pdq_distance

from .common import note, photo_paths, table

MAX_PIXELS = 50_000_000
SCRIPT = Path(sys.executable).parent / "removal-desk-hash"
BASELINE = """
import sys, pathlib, imagehash
from PIL import Image
for path in sorted(pathlib.Path(sys.argv[1]).iterdir()):
    with Image.open(path) as image:
        image.load()
        print(path.name, imagehash.phash(image))
"""


def make_jpegs(folder: Path, count: int) -> list[Path]:
    """`count` distinct 4000x3000 JPEGs (quality 90): the sample photos, then mirrored, then turned."""
    sources = photo_paths()
    paths = []
    for i in range(count):
        source = sources[i % len(sources)]
        image = Image.open(source).convert("RGB").resize((4000, 3000))
        round_ = i // len(sources)
        if round_ % 3 == 1:
            image = ImageOps.mirror(image)
        elif round_ % 3 == 2:
            image = image.rotate(180)
        path = folder / f"{i:02d}-{source.stem}-12mp.jpg"
        image.save(path, "JPEG", quality=90)
        paths.append(path)
    return paths


CPU = {"ours": float("inf"), "manage": float("inf"), "base": float("inf"), "startup": float("inf")}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(args: list[str], cwd: Path | None = None, name: str = "") -> tuple[float, str]:
    """Wall time and stdout of a command; its CPU time (all its processes) goes to CPU[name]."""
    cpu, start = _cpu(), time.perf_counter()
    result = subprocess.run(args, capture_output=True, text=True, check=False, env=_env(), cwd=cwd)
    elapsed = time.perf_counter() - start
    if name:
        CPU[name] = min(CPU[name], _cpu() - cpu)
    if result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {result.stderr}")
    return elapsed, result.stdout


def _env() -> dict[str, str]:
    """A maintainer's shell: nothing of the server's environment."""
    return {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}


def run(*, quick: bool = False) -> None:
    count = 8 if quick else 36
    rounds = 2 if quick else 5
    workers = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-hashing-") as tmp:
        folder, one = Path(tmp) / "jpegs", Path(tmp) / "one"
        folder.mkdir()
        one.mkdir()
        Image.open(photo_paths()[0]).convert("RGB").resize((64, 48)).save(one / "small.png")
        note(f"hashing: making {count} 12-megapixel JPEGs")
        paths = make_jpegs(folder, count)
        ours_cmd = [str(SCRIPT), str(folder), "--url-prefix", "https://img.example/set/"]
        base_cmd = [sys.executable, "-c", BASELINE, str(folder)]
        manage_cmd = [sys.executable, "manage.py", "hash_images", *ours_cmd[1:]]
        root = Path(__file__).resolve().parent.parent
        e2e = {"ours": float("inf"), "manage": float("inf"), "base": float("inf"), "startup": float("inf")}
        ours_out = base_out = ""
        note(f"hashing: end to end, best of {rounds}, the commands interleaved")
        for _ in range(rounds):
            elapsed, ours_out = _timed(ours_cmd, name="ours")
            e2e["ours"] = min(e2e["ours"], elapsed)
            elapsed, base_out = _timed(base_cmd, name="base")
            e2e["base"] = min(e2e["base"], elapsed)
            e2e["manage"] = min(e2e["manage"], _timed(manage_cmd, cwd=root, name="manage")[0])
            e2e["startup"] = min(e2e["startup"], _timed([str(SCRIPT), str(one)], name="startup")[0])

        note(f"hashing: in one process, best of {rounds}")
        in_process = {"ours": float("inf"), "base": float("inf")}
        for _ in range(rounds):
            start = time.perf_counter()
            for path in paths:
                compute_hashes(path.read_bytes(), max_pixels=MAX_PIXELS, variants=False)
            in_process["ours"] = min(in_process["ours"], time.perf_counter() - start)
            start = time.perf_counter()
            for path in paths:
                imagehash.phash(Image.open(path))
            in_process["base"] = min(in_process["base"], time.perf_counter() - start)

        note("hashing: drift against full decodes (PDQ of a full decode is slow)")
        ours = {Path(line["path"]).name: line for line in map(json.loads, ours_out.splitlines())}
        full = dict(line.split() for line in base_out.splitlines())
        assert sorted(ours) == sorted(full) == sorted(p.name for p in paths)
        phash_drift = [hamming64(hex_to_code(ours[n]["phash"]), hex_to_code(full[n])) for n in sorted(full)]
        pdq_drift = []
        for path in paths:
            bits, _ = pdqhash.compute(np.asarray(Image.open(path).convert("RGB")))
            full_pdq = np.packbits(bits.astype(np.uint8)).tobytes()
            pdq_drift.append(pdq_distance(bytes.fromhex(ours[path.name]["pdq"]), full_pdq))
        decoded = Image.open(paths[0])
        decoded.draft("RGB", DRAFT_SIZE)

    def per_image(seconds: float) -> str:
        return f"{1000 * seconds / count:.0f}"

    print(
        f"## Hashing: {count} JPEGs of 4000x3000 (quality 90), "
        f"{workers} cores, best of {rounds}\n\nEnd to end, each a process started from a shell "
        "(start-up included):\n"
    )
    print(
        table(
            ["command", "hashes", "decoded at", "seconds", "ms/image", "vs baseline", "CPU seconds"],
            [
                [
                    f"`removal-desk-hash FOLDER` ({workers} processes)",
                    "pHash + dHash + PDQ",
                    f"{decoded.size[0]}x{decoded.size[1]}",
                    f"{e2e['ours']:.2f}",
                    per_image(e2e["ours"]),
                    f"**{e2e['base'] / e2e['ours']:.1f}x**",
                    f"{CPU['ours']:.2f}",
                ],
                [
                    "`manage.py hash_images FOLDER` (the same program)",
                    "pHash + dHash + PDQ",
                    f"{decoded.size[0]}x{decoded.size[1]}",
                    f"{e2e['manage']:.2f}",
                    per_image(e2e["manage"]),
                    f"{e2e['base'] / e2e['manage']:.1f}x",
                    f"{CPU['manage']:.2f}",
                ],
                [
                    "baseline: `python -c` opening each file with PIL, `imagehash.phash`",
                    "pHash",
                    "4000x3000",
                    f"{e2e['base']:.2f}",
                    per_image(e2e["base"]),
                    "1.0x",
                    f"{CPU['base']:.2f}",
                ],
                [
                    "start-up: `removal-desk-hash` on a folder of one 64x48 PNG",
                    "",
                    "",
                    f"{e2e['startup']:.2f}",
                    "",
                    "",
                    f"{CPU['startup']:.2f}",
                ],
            ],
        )
    )
    print("\nIn one process (no start-up, one core):\n")
    print(
        table(
            ["pipeline", "hashes", "ms/image", "vs baseline"],
            [
                [
                    "`compute_hashes` (draft decoding)",
                    "pHash + dHash + PDQ",
                    per_image(in_process["ours"]),
                    f"{in_process['base'] / in_process['ours']:.1f}x",
                ],
                ["`imagehash.phash(Image.open(f))`", "pHash", per_image(in_process["base"]), "1.0x"],
            ],
        )
    )
    print()
    print(
        table(
            ["pHash drift max", "pHash drift mean", "PDQ drift max", "PDQ drift mean"],
            [[max(phash_drift), f"{np.mean(phash_drift):.2f}", max(pdq_drift), f"{np.mean(pdq_drift):.1f}"]],
        )
    )
    print(
        "\nCPU seconds: user + system time of the command and all its processes (least of the runs). "
        "Drift = bits between our hash and the same hash of the full decode. Targets: at least 5x "
        "end to end, pHash drift at most 2 bits."
    )

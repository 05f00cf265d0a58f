"""`removal-desk filter` on shards as a maintainer has them: Parquet, CSV and WebDataset tars, good
and broken side by side; a Dask LocalCluster filtering Parquet shards with the same function; and
the toolkit installed alone into a fresh virtual environment."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import venv
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from removal_desk_toolkit.filtering import Removed
from removal_desk_toolkit.store import Store

TOOLKIT = Path(__file__).resolve().parents[2] / "toolkit"
CODE = 0xB15FE6465121175E
NEAR = CODE ^ 0b101  # 2 bits away


def desk(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env["PYTHONPATH"] = str(TOOLKIT)
    return subprocess.run(
        [sys.executable, "-m", "removal_desk_toolkit", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "removals.sqlite3"
    rows = [
        {
            "id": f"rm_{i}",
            "url": f"https://img.example/{i}.jpg",
            "phash": None,
            "pdq": None,
            "state": "delivered",
        }
        for i in range(0, 100, 10)
    ]
    rows.append({"id": "rm_hash", "url": None, "phash": f"{CODE:016x}", "pdq": None, "state": "delivered"})
    rows.append(
        {"id": "rm_gone", "url": "https://img.example/5.jpg", "phash": None, "pdq": None, "state": "revoked"}
    )
    with Store(path) as copy:
        copy.feed_start(dataset="d", server="http://desk.example", restart=False)
        copy.feed_page(dataset="d", removals=rows, cursor="c", recorded=len(rows))
    return path


def shard_rows(start: int, n: int) -> dict[str, list]:
    urls = [f"https://img.example/{i}.jpg" for i in range(start, start + n)]
    urls[1] = "https://cdn.artist.example/x.jpg"
    hashes = [None] * n
    hashes[2] = f"{NEAR:016x}"
    return {"external_id": [f"e{i}" for i in range(start, start + n)], "url": urls, "phash": hashes}


def test_it_filters_parquet_csv_and_webdataset_shards_and_reports_why(store, tmp_path):
    shards = tmp_path / "shards"
    shards.mkdir()
    pq.write_table(pa.table(shard_rows(0, 50)), shards / "part-0.parquet", row_group_size=16)
    pacsv.write_csv(pa.table(shard_rows(50, 50)), shards / "part-1.csv")
    with tarfile.open(shards / "part-2.tar", "w") as tar:
        for i, row in enumerate(zip(*shard_rows(100, 5).values(), strict=True)):
            for name, data in (
                (f"s/{i:06d}.jpg", b"\xff\xd8 not really a jpeg"),
                (f"s/{i:06d}.json", json.dumps({"url": row[1], "phash": row[2], "caption": "c"}).encode()),
            ):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    domains = tmp_path / "domains.txt"
    domains.write_text("# opt-outs\n*.artist.example\n")
    out = tmp_path / "kept"
    result = desk(
        "filter", str(shards), "--store", str(store), "--out", str(out),
        "--report", str(tmp_path / "dropped.csv"), "--domains", str(domains),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "3/3 shards filtered, 105 rows, 89 kept, 16 dropped" in result.stderr

    kept = pq.read_table(out / "part-0.parquet")
    assert kept.schema == pq.read_schema(shards / "part-0.parquet")
    assert "https://img.example/0.jpg" not in kept.column("url").to_pylist()
    assert "https://img.example/5.jpg" in kept.column("url").to_pylist()  # its removal was revoked
    assert kept.num_rows == 50 - 5 - 1 - 1  # 0,10,20,30,40; the domain; the hash
    with open(out / "part-1.csv", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 50 - 5 - 2
    with tarfile.open(out / "part-2.tar") as tar:
        names = tar.getnames()
    assert names == [
        "s/000000.jpg",
        "s/000000.json",
        "s/000003.jpg",
        "s/000003.json",
        "s/000004.jpg",
        "s/000004.json",
    ]

    with open(tmp_path / "dropped.csv", newline="") as handle:
        report = list(csv.DictReader(handle))
    first = [r for r in report if r["shard"] == "part-0.parquet"]
    assert [(r["row"], r["key"], r["reason"], r["removal"]) for r in first[:3]] == [
        ("0", "e0", "url", "rm_0"),
        ("1", "e1", "domain", "*.artist.example"),
        ("2", "e2", "phash", "rm_hash"),
    ]
    assert first[2]["distance"] == "2"
    tar_rows = [r for r in report if r["shard"] == "part-2.tar"]
    assert [(r["key"], r["reason"]) for r in tar_rows] == [("s/000001", "domain"), ("s/000002", "phash")]


def test_broken_shards_are_named_and_the_others_still_done(store, tmp_path):
    shards = tmp_path / "shards"
    shards.mkdir()
    pq.write_table(pa.table(shard_rows(0, 40)), shards / "a-good.parquet")
    whole = (shards / "a-good.parquet").read_bytes()
    (shards / "b-truncated.parquet").write_bytes(whole[: len(whole) // 2])
    (shards / "c-corrupt.parquet").write_bytes(b"PAR1" + b"\x00garbage" * 50 + b"PAR1")
    with tarfile.open(shards / "d-missing-sidecar.tar", "w") as tar:
        for name in ("000000.jpg", "000000.json", "000001.jpg"):
            data = b"{}" if name.endswith(".json") else b"jpeg"
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    good_tar = (shards / "d-missing-sidecar.tar").read_bytes()
    (shards / "e-truncated.tar").write_bytes(good_tar[:700])
    pacsv.write_csv(pa.table(shard_rows(0, 10)), shards / "f-good.csv")
    out = tmp_path / "kept"
    result = desk(
        "filter", str(shards), "--store", str(store), "--out", str(out), "--report", str(tmp_path / "r.jsonl")
    )
    assert result.returncode == 1
    err = result.stderr
    assert "b-truncated.parquet: not a readable Parquet file" in err and "truncated or corrupt" in err
    assert "c-corrupt.parquet: not a readable Parquet file" in err
    assert "sample '000001' has no .json sidecar (its members: 000001.jpg)" in err
    assert "e-truncated.tar" in err and "nothing of it was written" in err
    assert "2/6 shards filtered" in err and "4 shard(s) could not be read" in err
    assert sorted(p.name for p in out.iterdir()) == ["a-good.parquet", "f-good.csv"]  # nothing half-written
    lines = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert {line["shard"] for line in lines} == {"a-good.parquet", "f-good.csv"}


def test_usage_errors_say_what_to_do(store, tmp_path):
    (tmp_path / "x.txt").write_text("x")
    common = ("--out", str(tmp_path / "o"), "--report", str(tmp_path / "r.csv"))
    wrong_kind = desk("filter", str(tmp_path / "x.txt"), "--store", str(store), *common)
    assert wrong_kind.returncode == 2 and "not a shard this filter reads" in wrong_kind.stderr
    no_store = desk("filter", str(tmp_path), "--store", str(tmp_path / "none.sqlite3"), *common)
    assert no_store.returncode == 2 and "run `removal-desk sync` first" in no_store.stderr
    bad_scope = tmp_path / "domains.txt"
    bad_scope.write_text("https://artist.example\n")
    bad = desk("filter", str(tmp_path), "--store", str(store), "--domains", str(bad_scope), *common)
    assert bad.returncode == 2 and "is not a domain scope" in bad.stderr


def test_a_dask_cluster_filters_parquet_shards_with_the_batch_function(store, tmp_path):
    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster

    shards = tmp_path / "shards"
    shards.mkdir()
    for n in range(4):
        pq.write_table(pa.table(shard_rows(n * 100, 100)), shards / f"part-{n}.parquet")
    removed = Removed.from_store(str(store), domains=["*.artist.example"])
    expected = sorted(
        url
        for n in range(4)
        for url in removed.filter_table(pq.read_table(shards / f"part-{n}.parquet"))[0]
        .column("url")
        .to_pylist()
    )
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        frame = dd.read_parquet(str(shards / "*.parquet"))
        assert frame.npartitions == 4
        shipped = client.scatter(removed, broadcast=True)
        kept = frame.map_partitions(lambda part, r: r.filter_frame(part), shipped, meta=frame._meta)
        kept.to_parquet(str(tmp_path / "kept"))
        workers = {w for w in client.run(os.getpid).values()}
        assert len(workers) == 2 and os.getpid() not in workers
    result = pq.read_table(tmp_path / "kept")
    assert sorted(result.column("url").to_pylist()) == expected
    assert result.num_rows == 400 - 10 - 4 * 2  # ten removed URLs in part-0; a domain and a hash in each
    assert len(expected) == result.num_rows


def test_the_toolkit_installs_alone_without_django(tmp_path):
    """`pip install ./toolkit` into a fresh environment: the package alone (its dependencies are
    wheels a maintainer gets from PyPI; --no-deps keeps the test off the network), then the
    commands' help, with no Django anywhere in that environment."""
    source = tmp_path / "toolkit"  # a copy: building writes build/ and egg-info next to the sources
    shutil.copytree(TOOLKIT, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(target)
    python = target / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    bare = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    for command in (
        [str(target / "bin" / "removal-desk"), "--help"],
        [str(target / "bin" / "removal-desk"), "sync", "--help"],
    ):
        shown = subprocess.run(command, capture_output=True, text=True, timeout=60, env=bare, cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert "sync" in shown.stdout
    where = (
        "import importlib.util as u; print(u.find_spec('django'), u.find_spec('removal_desk_toolkit').origin)"
    )
    django = subprocess.run(
        [str(python), "-c", where],
        capture_output=True, text=True, timeout=60, env=bare, cwd=tmp_path,
    )  # fmt: skip
    assert django.stdout.split()[0] == "None" and str(target) in django.stdout

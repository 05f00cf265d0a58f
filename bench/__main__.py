"""python -m bench [NAME ...] [--quick]: Markdown tables; progress on stderr. Names: see NAMES."""

from __future__ import annotations

import argparse
import datetime
import importlib
import inspect
import os

from . import common

NAMES = (
    "hashing",
    "search",
    "robustness",
    "work_cost",
    "imports",
    "delivery",
    "approval",
    "lookup",
    "export",
    "portfolio_page",
    "upload_sqlite",
    "site_signals",
    "portfolio_upload",
    "load",
    "domain_optout",
    "portfolio_quota",
    "partner_filing",
    "partner_file",
    "partner_conflicts",
    "bulk_match",
    "toolkit_filter",
    "report",
    "shards",
    "shards_held",
    "grant_rematch",
)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(NAMES)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (search: 100k and 1M codes)")
    parser.add_argument(
        "--items",
        type=int,
        default=None,
        help=(
            "domain_optout, partner_filing, bulk_match: items in the data set; partner_file: rows;"
            " grant_rematch: standing grants;"
            " shards, shards_held: codes"
        ),
    )
    parser.add_argument("--works", type=int, help="portfolio_upload: how many works (default 1,000)")
    parser.add_argument("--shards", type=int, help="shards_held: how many shards (default 4)")
    parser.add_argument(
        "--rss-limit", type=float, metavar="GIB", help="shards_held: stop past this summed RSS (default 7.8)"
    )
    args = parser.parse_args()
    if args.works:
        os.environ["BENCH_WORKS"] = str(args.works)
    if args.shards:
        os.environ["BENCH_SHARDS"] = str(args.shards)
    if args.rss_limit:
        os.environ["BENCH_RSS_LIMIT_GIB"] = str(args.rss_limit)
    names = args.names or list(NAMES)
    unknown = sorted(set(names) - set(NAMES))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    print(f"# Benchmarks, {datetime.date.today().isoformat()}\n")
    print(f"Machine: {common.machine()}\n")
    for name in names:
        # Each benchmark is a module of this package with run(quick=...); imported on
        # demand, so one benchmark's heavy imports do not slow the others.
        module = importlib.import_module(f"{__package__}.{name}")
        if args.items is not None and "items" in inspect.signature(module.run).parameters:
            module.run(quick=args.quick, items=args.items)
        else:
            module.run(quick=args.quick)
        print()


if __name__ == "__main__":
    main()

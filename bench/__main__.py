"""python -m bench [NAME ...] [--quick]: Markdown tables; progress on stderr. Names: see NAMES."""

from __future__ import annotations

import argparse
import datetime

from . import common

NAMES = ("hashing", "search", "robustness", "imports", "delivery", "lookup", "export")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(NAMES)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (search: 100k and 1M codes)")
    args = parser.parse_args()
    names = args.names or list(NAMES)
    unknown = sorted(set(names) - set(NAMES))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    print(f"# Benchmarks, {datetime.date.today().isoformat()}\n")
    print(f"Machine: {common.machine()}\n")
    for name in names:
        if name == "hashing":
            from . import hashing

            hashing.run(quick=args.quick)
        elif name == "search":
            from . import search

            search.run(quick=args.quick)
        elif name == "robustness":
            from . import robustness

            robustness.run(quick=args.quick)
        elif name == "imports":
            from . import imports

            imports.run(quick=args.quick)
        elif name == "delivery":
            from . import delivery

            delivery.run(quick=args.quick)
        elif name == "lookup":
            from . import lookup

            lookup.run(quick=args.quick)
        else:
            from . import export

            export.run(quick=args.quick)
        print()


if __name__ == "__main__":
    main()

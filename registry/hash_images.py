"""`python -m registry.hash_images` and `manage.py hash_images`: the toolkit's `removal-desk-hash`.

The hasher lives in the maintainers' toolkit (toolkit/removal_desk_toolkit/cli.py), which
installs on its own with no Django; in a clone of the server it also runs under these names.
It needs no Django settings, no SECRET_KEY and no database. See that module for the output.
"""

from __future__ import annotations

import sys

from removal_desk_toolkit.cli import DESCRIPTION, UsageError, add_arguments, collect, hash_file, main, run

__all__ = ["DESCRIPTION", "UsageError", "add_arguments", "collect", "hash_file", "main", "run"]

if __name__ == "__main__":
    sys.exit(main(prog="python -m registry.hash_images"))

"""Removal Desk's tools for data set maintainers, installable on their own (no Django).

One module per tool, each with a command in `removal_desk_toolkit.cli`:

- `hashing`: image bytes -> the registry's perceptual hashes (pHash, dHash, PDQ). The
  registry itself imports this module (registry/hashing.py), so both sides compute the
  same values by the same code.
- `cli`: the console scripts (`removal-desk-hash`).
"""

__version__ = "0.1.0"

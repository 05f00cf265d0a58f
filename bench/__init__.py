"""Benchmarks (python -m bench): see README, Performance."""

import os

# The benchmarks run Django with config.settings outside DEBUG, which needs a key.
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-deployments")

"""Benchmarks: `python -m bench [hashing|search|robustness] [--quick]`, each printing a Markdown table."""

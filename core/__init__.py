"""Plumbing both apps use: the clock, task queueing, outbound HTTP, encryption, outside text, admin bases.

No models, and no import from registry, requests_app or config: the arrows
only point here.
"""

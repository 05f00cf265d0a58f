"""What an artist's site already says about AI training: robots.txt, ai.txt, TDMRep.

Strict parsers (robots, tdmrep) turn each file into scope lines for a domain request
(`example.com`, `example.com/art/`) plus what they read but could not use and what they could
not read, each with its line; fetch reads the three files from a verified domain through
core.outbound. Nothing here changes state: services.site_signals_fetch records the result.
"""

from ._text import MAX_BYTES, MESSAGES, Finding, Reading, ScopeLine, covers, describe, merge
from .agents import AI_TRAINING_AGENTS, is_ai_training_agent
from .fetch import FILE_LABELS, FILES, FOUND, MALFORMED, NOT_FOUND, UNREACHABLE, FileResult, fetch_site
from .robots import parse_ai_txt, parse_robots
from .tdmrep import parse_tdmrep

__all__ = [
    "AI_TRAINING_AGENTS",
    "FILES",
    "FILE_LABELS",
    "FOUND",
    "MALFORMED",
    "MAX_BYTES",
    "MESSAGES",
    "NOT_FOUND",
    "UNREACHABLE",
    "FileResult",
    "Finding",
    "Reading",
    "ScopeLine",
    "covers",
    "describe",
    "fetch_site",
    "is_ai_training_agent",
    "merge",
    "parse_ai_txt",
    "parse_robots",
    "parse_tdmrep",
]

"""robots.txt (RFC 9309) read for what it reserves from AI training, and the robots-like ai.txt.

What counts as a reservation:
- Disallow rules in a group for an AI-training crawler (agents.AI_TRAINING_AGENTS): "Disallow: /"
  is the whole host, "Disallow: /art/" the prefix, "Disallow: /*.png" the images under it;
- in a group for such a crawler or for every crawler (`*`), the usage preferences of the IETF
  aipref drafts (`Content-Usage: [path] train-ai=n`, values y/n) and of Cloudflare's Content
  Signals (`Content-Signal: [path] ai-train=no`, values yes/no), scoped to their optional path.
What does not: Disallow rules for `*` (they are about crawling, not training; the page says so)
and rules for other named crawlers. An Allow inside a reserved prefix is shown as an exception,
since a domain request cannot leave a path out.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from ._text import (
    IMAGE_EXTENSIONS,
    MAX_BYTES,
    MAX_LINE_CHARS,
    Reading,
    ScopeLine,
    decode,
    file_type,
    lines,
    merge,
    prefix_of,
    scope_key,
    scope_line,
    valid_path,
)
from .agents import is_ai_training_agent, product_token

RULE_FIELDS = frozenset({"allow", "disallow", "content-usage", "content-signal"})
# Fields robots.txt files carry that say nothing about AI training: read past, not reported.
OTHER_FIELDS = frozenset(
    {"sitemap", "crawl-delay", "host", "clean-param", "request-rate", "visit-time", "noindex", "nofollow"}
)
_KEY = re.compile(r"^[a-z][a-z0-9_.*-]*$")
USAGE_VALUES = {"content-usage": ("y", "n"), "content-signal": ("yes", "no")}


@dataclass
class Rule:
    line: int
    field: str
    value: str


@dataclass
class Group:
    agents: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)


def read_groups(text: str, reading: Reading) -> list[Group]:
    """The groups of a robots-like file; lines it cannot read go to reading.problems."""
    groups: list[Group] = []
    current: Group | None = None
    for number, raw in enumerate(lines(text), 1):
        if len(raw) > MAX_LINE_CHARS:
            reading.problem(number, "line_too_long", limit=MAX_LINE_CHARS)
            continue
        content = raw.split("#", 1)[0].strip()
        if not content:
            continue
        name, colon, value = content.partition(":")
        if not colon:
            reading.problem(number, "no_colon")
            continue
        key, value = name.strip().lower(), value.strip()
        if key == "user-agent":
            if current is None or current.rules:
                current = Group()
                groups.append(current)
            current.agents.append(value)
        elif key in RULE_FIELDS:
            if current is None:
                reading.problem(number, "rule_before_agent", field=name.strip())
                continue
            current.rules.append(Rule(number, key, value))
        elif key not in OTHER_FIELDS:
            reading.problem(number, "unknown_field", field=name.strip()[:60])
    return groups


def _label(rule: Rule) -> str:
    return {"allow": "Allow", "disallow": "Disallow", "content-usage": "Content-Usage"}.get(
        rule.field, "Content-Signal"
    )


def path_scope(
    pattern: str, *, host: str, line: int, source: str, reading: Reading, scope: list[ScopeLine]
) -> None:
    """A disallowed path pattern as a scope line, or a note saying why it cannot be one."""
    if not valid_path(pattern):
        reading.problem(line, "bad_path", path=pattern[:80])
        return
    prefix = prefix_of(pattern)
    if prefix is not None:
        scope.append(ScopeLine(scope_line(host, prefix), line, source))
        return
    typed = file_type(pattern)
    if typed is None:
        reading.note(line, "not_prefix", path=pattern)
    elif typed[1] in IMAGE_EXTENSIONS:
        where = scope_line(host, typed[0])
        scope.append(ScopeLine(where, line, source))
        reading.note(line, "images_only", path=pattern, scope=where)
    else:
        reading.note(line, "not_images", path=pattern, ext=typed[1])


def usage_scope(rule: Rule, *, host: str, reading: Reading, scope: list[ScopeLine]) -> None:
    """A Content-Usage or Content-Signal line: "[path] key=value, key=value"."""
    value = rule.value
    path = "/"
    if value.startswith(("/", "*")):
        path, _sep, value = value.partition(" ")
        value = value.strip()
    prefs: dict[str, str] = {}
    for item in value.split(","):
        key, equals, pref = item.partition("=")
        key, pref = key.strip().lower(), pref.split(";", 1)[0].strip().lower()
        if not equals or not _KEY.match(key) or not pref:
            reading.problem(rule.line, "bad_usage", value=rule.value[:120])
            return
        prefs[key] = pref
    allowed = USAGE_VALUES[rule.field]
    for key, pref in prefs.items():
        if pref not in allowed:
            reading.problem(
                rule.line, "bad_usage_value", key=key, value=pref[:40], allowed=" / ".join(allowed)
            )
            return
    if rule.field == "content-usage":
        stated = [prefs[k] for k in ("train-ai", "train-genai") if k in prefs]
        reserved = "n" in stated or (not stated and prefs.get("bots") == "n")
        about_training = bool(stated) or "bots" in prefs
    else:
        reserved = prefs.get("ai-train") == "no"
        about_training = "ai-train" in prefs
    shown = f"{_label(rule)}: {rule.value}"
    if not reserved:
        if about_training:
            reading.note(rule.line, "usage_allowed", field=_label(rule), value=value)
        return
    reading.note(rule.line, "usage_reserved", field=_label(rule), value=value)
    path_scope(path, host=host, line=rule.line, source=shown, reading=reading, scope=scope)


def exceptions(allows: list[Rule], *, host: str, kept: list[ScopeLine], reading: Reading) -> None:
    """An Allow inside a reserved place (longer than what reserves it) carves a hole out of it."""
    keys = [scope_key(k.scope) for k in kept]
    for rule in allows:
        prefix = prefix_of(rule.value) if valid_path(rule.value) else None
        if prefix is None:
            continue
        place = scope_key(scope_line(host, prefix))
        index = bisect_right(keys, place) - 1
        if index >= 0 and place.startswith(keys[index]) and place != keys[index]:
            reading.note(rule.line, "exception", path=rule.value)


def read_rules(groups: list[Group], *, host: str, every_group_is_ai: bool, reading: Reading) -> None:
    scope: list[ScopeLine] = []
    allows: list[Rule] = []
    for group in groups:
        tokens = [product_token(agent) for agent in group.agents]
        ai = [a for a in group.agents if every_group_is_ai or is_ai_training_agent(a)]
        star = "*" in tokens
        said_why = False
        for rule in group.rules:
            if rule.field in USAGE_VALUES:
                if ai or star:
                    usage_scope(rule, host=host, reading=reading, scope=scope)
                elif not said_why:
                    reading.note(rule.line, "other_agent", agent=", ".join(group.agents)[:120])
                    said_why = True
            elif ai:
                if rule.field == "allow":
                    allows.append(rule)
                elif rule.value:
                    source = f"{', '.join(ai)[:120]}: Disallow: {rule.value}"
                    path_scope(
                        rule.value, host=host, line=rule.line, source=source, reading=reading, scope=scope
                    )
            elif rule.field == "disallow" and rule.value and not said_why:
                if star:
                    reading.note(rule.line, "star_group")
                else:
                    reading.note(rule.line, "other_agent", agent=", ".join(group.agents)[:120])
                said_why = True
    reading.scope = merge(scope, reading)
    exceptions(allows, host=host, kept=reading.scope, reading=reading)
    reading.in_line_order()


def parse_robots(body: bytes, *, host: str, max_bytes: int = MAX_BYTES) -> Reading:
    """What robots.txt at `host` reserves from AI training (see the module's note)."""
    reading = Reading()
    text = decode(body, reading, max_bytes=max_bytes)
    if text is None:
        return reading
    read_rules(read_groups(text, reading), host=host, every_group_is_ai=False, reading=reading)
    return reading


def parse_ai_txt(body: bytes, *, host: str, max_bytes: int = MAX_BYTES) -> Reading:
    """Spawning's ai.txt: robots.txt's lines, every group addressed to AI (User-Agent: * included).

    "Disallow: /" reserves the host, "Disallow: /art/" the prefix, "Disallow: *.jpg" the images
    (in image data sets: everything under the host); other file types are noted, not used.
    """
    reading = Reading()
    text = decode(body, reading, max_bytes=max_bytes)
    if text is None:
        return reading
    read_rules(read_groups(text, reading), host=host, every_group_is_ai=True, reading=reading)
    return reading

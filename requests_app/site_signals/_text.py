"""What the three parsers share: their findings, strict decoding, and path patterns as scope lines.

A finding is a (line, code, params) triple, not a sentence: the page words it in the reader's
language when it shows it (`describe`), so a row fetched in French reads well in English.
Scope lines are what the domain request form takes: `example.com` (the whole host) or
`example.com/path/` (everything under a path prefix).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

MAX_BYTES = 512 * 1024
MAX_LINE_CHARS = 4096
MAX_PATH_CHARS = 1000
MAX_FINDINGS = 200  # of each kind per file; the rest are counted
MAX_SCOPE_SHOWN = 200  # scope lines stored per file (all of them are merged)
# Paths served as images in the data sets a domain request reaches (an ai.txt names them by type).
IMAGE_EXTENSIONS = frozenset(
    {"jpg", "jpeg", "png", "gif", "webp", "avif", "bmp", "tif", "tiff", "svg", "heic", "heif", "jxl", "ico"}
)

MESSAGES: dict[str, Any] = {
    # whole-file problems: the file is not read at all
    "too_large": _("the file is larger than %(limit)s KB; only smaller files are read."),
    "empty": _("the file is empty."),
    "not_utf8": _("the file is not valid UTF-8 text (byte %(byte)s); save it as UTF-8."),
    "nul": _("the file contains a NUL byte, so it is not a text file."),
    "content_type": _("the server sends it as %(type)s, not as text; serve it as text/plain."),
    "json_type": _("the server sends it as %(type)s; serve it as application/json."),
    "html_page": _("the address answers with a web page (text/html), not with this file."),
    "json_syntax": _("not valid JSON: %(error)s."),
    "json_depth": _("the JSON nests deeper than %(limit)s levels."),
    "json_not_array": _("the file must be a JSON array of rules, [ {...}, ... ]; it is %(kind)s."),
    "json_too_many": _("more than %(limit)s rules; only files with fewer are read."),
    "json_trailing": _("there is more text after the closing ]."),
    "json_constant": _("%(value)s is not a number JSON allows."),
    "json_big_number": _("a number with %(digits)s digits is not a value this file can hold."),
    "json_duplicate": _("the key %(key)s appears twice in one rule."),
    # problems with one line: the line is skipped, the rest is read
    "line_too_long": _("the line is longer than %(limit)s characters."),
    "no_colon": _("not a “Field: value” line."),
    "unknown_field": _("%(field)s is not a field we know; the line is ignored."),
    "rule_before_agent": _("a %(field)s rule before any User-agent line belongs to no group."),
    "bad_path": _("%(path)s is not a path (it must start with / or *)."),
    "bad_usage": _("%(value)s is not a list of key=value preferences."),
    "bad_usage_value": _("%(key)s=%(value)s: the value must be %(allowed)s."),
    "rule_not_object": _("rule %(index)s is %(kind)s, not an object."),
    "rule_missing": _("rule %(index)s has no %(key)s."),
    "rule_wrong_type": _("rule %(index)s: %(key)s must be %(expected)s, not %(kind)s."),
    "rule_bad_reservation": _("rule %(index)s: tdm-reservation must be 0 or 1, not %(value)s."),
    "rule_bad_policy": _("rule %(index)s: tdm-policy must be an http(s) address."),
    # why a file was not found or not reached
    "http_missing": _("the site answers HTTP %(status)s: there is no such file."),
    "http_error": _("the site answers HTTP %(status)s; try again later."),
    "timeout": _("no complete answer within %(seconds)s seconds."),
    "refused": _("we cannot fetch it: %(error)s"),
    "connect": _("we could not connect (%(error)s)."),
    "redirect_away": _("it redirects to %(where)s, outside your domain; we do not follow that."),
    "redirect_insecure": _("it redirects from https to %(where)s, which is not https."),
    "redirect_loop": _("more than %(hops)s redirects."),
    # notes: read, but not turned into scope (or turned into it with a caveat)
    "star_group": _(
        "rules for every crawler (User-agent: *) are about crawling, not AI training: they are not "
        "read as a reservation. Name the AI crawlers, or add Content-Usage: train-ai=n."
    ),
    "other_agent": _("rules for %(agent)s, which is not an AI-training crawler we know, are not read."),
    "exception": _(
        "%(path)s is allowed again; a domain request cannot leave a path out, so check the scope."
    ),
    "not_prefix": _("%(path)s is a pattern, not a path prefix; a domain request cannot express it."),
    "not_images": _("%(path)s names files that are not images (.%(ext)s); image data sets do not hold them."),
    "images_only": _("%(path)s reserves image files; in image data sets that is everything under %(scope)s."),
    "usage_reserved": _("%(field)s reserves AI training (%(value)s)."),
    "usage_allowed": _("%(field)s does not reserve AI training (%(value)s)."),
    "not_reserved": _("rule %(index)s (%(path)s) does not reserve text and data mining."),
    "covered": _("%(scope)s is inside %(by)s, already in the scope."),
}


@dataclass(frozen=True)
class Finding:
    line: int | None
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "code": self.code, "params": self.params}


@dataclass(frozen=True)
class ScopeLine:
    scope: str  # example.com or example.com/art/
    line: int | None  # where the file says it
    source: str  # the rule, as written ("GPTBot: Disallow: /art/")

    def as_json(self) -> dict[str, Any]:
        return {"scope": self.scope, "line": self.line, "source": self.source}


@dataclass
class Reading:
    """What one file says: the scope it reserves, what was read but not used, what could not be read.

    `fatal` is set when the file could not be read at all (then `scope` is empty). Findings are
    kept up to MAX_FINDINGS of each kind and counted beyond, and at most MAX_SCOPE_SHOWN scope
    lines are stored per file: a hostile 512 KB file must not become megabytes in a row.
    """

    scope: list[ScopeLine] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    fatal: bool = False
    more_notes: int = 0
    more_problems: int = 0

    def refuse(self, code: str, line: int | None = None, **params: Any) -> Reading:
        self.problems.append(Finding(line, code, params))
        self.scope.clear()
        self.fatal = True
        return self

    def problem(self, line: int | None, code: str, **params: Any) -> None:
        if len(self.problems) >= MAX_FINDINGS:
            self.more_problems += 1
        else:
            self.problems.append(Finding(line, code, params))

    def note(self, line: int | None, code: str, **params: Any) -> None:
        if len(self.notes) >= MAX_FINDINGS:
            self.more_notes += 1
        else:
            self.notes.append(Finding(line, code, params))

    def in_line_order(self) -> None:
        for findings in (self.notes, self.problems):
            findings.sort(key=lambda f: f.line or 0)  # stable: one line's findings keep their order
        self.scope.sort(key=lambda s: (s.line or 0, s.scope))

    def as_json(self) -> dict[str, Any]:
        return {
            "scope": [s.as_json() for s in self.scope[:MAX_SCOPE_SHOWN]],
            "more_scope": max(0, len(self.scope) - MAX_SCOPE_SHOWN),
            "notes": [n.as_json() for n in self.notes],
            "more_notes": self.more_notes,
            "problems": [p.as_json() for p in self.problems],
            "more_problems": self.more_problems,
            "fatal": self.fatal,
        }


def describe(finding: dict[str, Any], *, file_label: str) -> str:
    """A stored finding in the active language: "tdmrep.json line 3: rule 2 has no location."."""
    template = MESSAGES.get(str(finding.get("code")))
    params = finding.get("params") or {}
    try:
        text = str(template) % params if template is not None else str(finding.get("code"))
    except (KeyError, TypeError, ValueError):
        text = str(template)
    line = finding.get("line")
    if line:
        return str(_("%(file)s line %(line)s: %(text)s")) % {"file": file_label, "line": line, "text": text}
    return str(_("%(file)s: %(text)s")) % {"file": file_label, "text": text}


def decode(body: bytes, reading: Reading, *, max_bytes: int = MAX_BYTES) -> str | None:
    """The text of a file, strictly: size-capped, UTF-8 (a BOM allowed), no NUL; else None and why."""
    if len(body) > max_bytes:
        reading.refuse("too_large", limit=max_bytes // 1024)
        return None
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    if not body.strip():
        reading.refuse("empty")
        return None
    nul = body.find(b"\x00")
    if nul >= 0:
        reading.refuse("nul", line=body.count(b"\n", 0, nul) + 1)
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        reading.refuse("not_utf8", line=body.count(b"\n", 0, exc.start) + 1, byte=exc.start + 1)
        return None


def lines(text: str) -> list[str]:
    """Lines split on LF, CRLF or CR (robots.txt allows all three)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


_PATH = re.compile(r"[/*][^\s\x00-\x1f\x7f]*")


def valid_path(pattern: str) -> bool:
    """Starts with / or *, at most MAX_PATH_CHARS, no space or control character."""
    return len(pattern) <= MAX_PATH_CHARS and _PATH.fullmatch(pattern) is not None


def prefix_of(pattern: str) -> str | None:
    """The path prefix a robots-style pattern covers exactly, or None if it is not a prefix.

    "/" and "/*" cover everything, "/art/" and "/art/*" cover /art/...; "/*.jpg", "/a$" and
    "/a*b" are patterns a prefix cannot express. Queries are left out: scope lines have none.
    """
    stripped = pattern.rstrip("*")
    if not stripped:
        return "/"
    if stripped[0] != "/" or "*" in stripped or "$" in stripped or "?" in stripped:
        return None
    return stripped


def scope_line(host: str, prefix: str) -> str:
    return host if prefix == "/" else f"{host}{prefix}"


def file_type(pattern: str) -> tuple[str, str] | None:
    """("/art/", "jpg") for "/art/*.jpg", "*.jpg" or "/art/*.jpg$"; None for anything else."""
    body = pattern[:-1] if pattern.endswith("$") else pattern
    head, star, tail = body.rpartition("*")
    if not star or not tail.startswith(".") or not tail[1:].isalnum():
        return None
    prefix = prefix_of(head) if head else "/"
    if prefix is None:
        return None
    return prefix, tail[1:].lower()


def scope_key(scope: str) -> str:
    """A scope line as a string prefix: the whole host "a.example" is "a.example/"."""
    return scope if "/" in scope else scope + "/"


def merge(scope: list[ScopeLine], reading: Reading | None = None) -> list[ScopeLine]:
    """One line per place, a place inside another dropped (noted in `reading`), sorted by place.

    O(n log n): in lexicographic order, whatever covers a line is the last line kept before it
    (anything between the two starts with the covering one, so it was dropped), so a hostile
    file of 20,000 prefixes costs a sort, not 20,000 squared comparisons.
    """
    kept: list[ScopeLine] = []
    for line in sorted(scope, key=lambda s: (scope_key(s.scope), s.line or 0)):
        last = kept[-1] if kept else None
        if last is not None and scope_key(line.scope).startswith(scope_key(last.scope)):
            if reading is not None and last.scope != line.scope:
                reading.note(line.line, "covered", scope=line.scope, by=last.scope)
            continue
        kept.append(line)
    return kept


def covers(outer: str, inner: str) -> bool:
    """Does the scope line `outer` take in `inner`? (same host: the host, or a shorter prefix)."""
    if outer == inner:
        return True
    if "/" not in outer:
        return inner.split("/", 1)[0] == outer
    return inner.startswith(outer)  # a robots path is a string prefix: /art covers /artist too

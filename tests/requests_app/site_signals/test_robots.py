"""robots.txt and ai.txt read for what they reserve from AI training: real-world files, the newer
usage signals, odd spellings, and hostile input."""

from __future__ import annotations

from requests_app.site_signals import AI_TRAINING_AGENTS, describe, parse_ai_txt, parse_robots

HOST = "art.example"


def scopes(reading):
    return [line.scope for line in reading.scope]


def codes(findings):
    return [(f.line, f.code) for f in findings]


# A news site's robots.txt of 2024-2025: search engines welcome, AI crawlers shut out.
PUBLISHER = b"""# See https://art.example/terms for our policy on automated access.
User-agent: *
Disallow: /search
Disallow: /account/
Allow: /

User-agent: GPTBot
Disallow: /

User-agent: Google-Extended
Disallow: /

User-agent: CCBot
User-agent: anthropic-ai
User-agent: ClaudeBot
Disallow: /

Sitemap: https://art.example/sitemap.xml
"""

# Cloudflare's managed robots.txt (abridged): the policy comment and one machine-readable line.
CLOUDFLARE = b"""# As a condition of accessing this website, you agree to abide by the following
# content signals:
# (a)  If a content-signal = yes, you may collect content for the corresponding use.
# (b)  If a content-signal = no, you may not collect content for the corresponding use.
# ai-train: to train or fine-tune AI models.
User-Agent: *
Content-Signal: search=yes, ai-train=no
Allow: /
"""


def test_ai_crawlers_shut_out_of_the_whole_site_reserve_the_host():
    reading = parse_robots(PUBLISHER, host=HOST)
    assert scopes(reading) == [HOST]
    assert reading.problems == [] and not reading.fatal
    # the `*` group is about crawling: read, said so, not taken as a reservation
    assert (3, "star_group") in codes(reading.notes)
    assert reading.scope[0].line == 8 and reading.scope[0].source == "GPTBot: Disallow: /"


def test_cloudflare_content_signal_reserves_the_host_even_in_the_star_group():
    reading = parse_robots(CLOUDFLARE, host=HOST)
    assert scopes(reading) == [HOST]
    assert codes(reading.notes) == [(7, "usage_reserved")]


def test_aipref_content_usage_with_and_without_a_path():
    body = b"User-Agent: *\nAllow: /\nContent-Usage: /portfolio/ train-ai=n, search=y\n"
    reading = parse_robots(body, host=HOST)
    assert scopes(reading) == ["art.example/portfolio/"]
    assert parse_robots(b"User-agent: *\nContent-Usage: train-genai=n\n", host=HOST).scope[0].scope == HOST
    # bots=n covers training when train-ai is not stated, and train-ai=y overrides it
    assert scopes(parse_robots(b"User-agent: *\nContent-Usage: bots=n\n", host=HOST)) == [HOST]
    assert scopes(parse_robots(b"User-agent: *\nContent-Usage: bots=n, train-ai=y\n", host=HOST)) == []
    allowed = parse_robots(b"User-agent: *\nContent-Signal: ai-train=yes\n", host=HOST)
    assert scopes(allowed) == [] and codes(allowed.notes) == [(2, "usage_allowed")]


def test_usage_lines_with_bad_values_are_reported_not_guessed():
    body = b"User-agent: *\nContent-Usage: train-ai=no\nContent-Signal: ai-train=n\nContent-Usage: train-ai\n"
    reading = parse_robots(body, host=HOST)
    assert scopes(reading) == []
    assert codes(reading.problems) == [(2, "bad_usage_value"), (3, "bad_usage_value"), (4, "bad_usage")]
    text = describe(reading.problems[0].as_json(), file_label="robots.txt")
    assert text == "robots.txt line 2: train-ai=no: the value must be y / n."


def test_a_star_group_alone_reserves_nothing():
    reading = parse_robots(b"User-agent: *\nDisallow: /\n", host=HOST)
    assert scopes(reading) == [] and codes(reading.notes) == [(2, "star_group")]


def test_prefixes_patterns_and_exceptions():
    body = b"""User-agent: GPTBot
Disallow: /art/
Disallow: /art/2024/
Allow: /art/public/
Disallow: /*.png
Disallow: /gallery*
Disallow: /*.php$
Disallow: /a*b
Disallow:
"""
    reading = parse_robots(body, host=HOST)
    # /*.png covers every image on the host, which takes in /art/ and /gallery
    assert scopes(reading) == [HOST]
    found = codes(reading.notes)
    assert (4, "exception") in found and (5, "images_only") in found
    assert (7, "not_images") in found and (8, "not_prefix") in found
    assert (2, "covered") in found and (3, "covered") in found
    narrower = parse_robots(
        b"User-agent: GPTBot\nDisallow: /art/\nDisallow: /art/2024/\nDisallow: /gallery*\n", host=HOST
    )
    assert scopes(narrower) == ["art.example/art/", "art.example/gallery"]


def test_agents_in_odd_case_with_versions_and_spaces():
    body = b"user-AGENT:   gPtBoT/1.1  \nDISALLOW: /Art/\n\nUser-agent: Mozilla/5.0\nDisallow: /x/\n"
    reading = parse_robots(body, host=HOST)
    assert scopes(reading) == ["art.example/Art/"]  # paths keep their case: they are case-sensitive
    assert (5, "other_agent") in codes(reading.notes)
    for agent in AI_TRAINING_AGENTS:  # every listed crawler counts, however it is spelt
        odd = agent.swapcase().encode()
        assert scopes(parse_robots(b"User-agent: " + odd + b"/2.0\nDisallow: /\n", host=HOST)) == [HOST]


def test_crlf_cr_bom_and_comments():
    body = b"\xef\xbb\xbf# hello\r\nUser-agent: CCBot # Common Crawl\r\nDisallow: /art/ # my art\r\n"
    assert scopes(parse_robots(body, host=HOST)) == ["art.example/art/"]
    old_mac = b"User-agent: CCBot\rDisallow: /art/\r"
    assert scopes(parse_robots(old_mac, host=HOST)) == ["art.example/art/"]


def test_lines_it_cannot_read_are_listed_with_their_number():
    body = b"Disallow: /early/\nUser-agent: GPTBot\nthis is not a rule\nNoai: true\nDisallow: art/\n" + (
        b"Disallow: /" + b"a" * 5000 + b"\n"
    )
    reading = parse_robots(body, host=HOST)
    assert not reading.fatal and scopes(reading) == []
    assert codes(reading.problems) == [
        (1, "rule_before_agent"),
        (3, "no_colon"),
        (4, "unknown_field"),
        (5, "bad_path"),
        (6, "line_too_long"),
    ]
    assert describe(reading.problems[3].as_json(), file_label="robots.txt") == (
        "robots.txt line 5: art/ is not a path (it must start with / or *)."
    )


def test_hostile_files_are_refused_whole_with_a_reason():
    nul = parse_robots(b"User-agent: GPTBot\nDisallow: /\x00\n", host=HOST)
    assert nul.fatal and codes(nul.problems) == [(2, "nul")] and nul.scope == []
    latin1 = parse_robots(b"User-agent: GPTBot\n# caf\xe9\nDisallow: /\n", host=HOST)
    assert latin1.fatal and codes(latin1.problems) == [(2, "not_utf8")]
    huge = parse_robots(b"User-agent: GPTBot\nDisallow: /\n" + b"# padding\n" * 1_000_000, host=HOST)
    assert huge.fatal and codes(huge.problems) == [(None, "too_large")]
    assert describe(huge.problems[0].as_json(), file_label="robots.txt") == (
        "robots.txt: the file is larger than 512 KB; only smaller files are read."
    )
    assert codes(parse_robots(b"\xef\xbb\xbf \r\n", host=HOST).problems) == [(None, "empty")]
    binary = parse_robots(bytes(range(256)) * 4, host=HOST)
    assert binary.fatal


def test_spawning_ai_txt():
    body = b"""# Spawning AI
# Prevent datasets from using the following file types

User-Agent: *
Disallow: *.jpg
Disallow: *.jpeg
Disallow: *.png
Disallow: *.txt
Disallow: *.pdf
"""
    reading = parse_ai_txt(body, host=HOST)
    assert scopes(reading) == [HOST]
    found = codes(reading.notes)
    assert (5, "images_only") in found and (8, "not_images") in found and (9, "not_images") in found
    # in ai.txt, `*` is addressed to AI: "Disallow: /" reserves the host
    assert scopes(parse_ai_txt(b"User-Agent: *\nDisallow: /\n", host=HOST)) == [HOST]
    assert scopes(parse_ai_txt(b"User-Agent: *\nDisallow: /art/*.webp\nAllow: /\n", host=HOST)) == [
        "art.example/art/"
    ]
    only_text = parse_ai_txt(b"User-Agent: *\nDisallow: *.txt\nDisallow: *.docx\n", host=HOST)
    assert scopes(only_text) == [] and len(only_text.notes) == 2


def test_a_file_of_thousands_of_findings_keeps_two_hundred_of_each_and_counts_the_rest():
    body = b"User-agent: GPTBot\n" + b"".join(b"Disallow: /a%d/*.zip\nnonsense\n" % n for n in range(1000))
    reading = parse_robots(body, host=HOST)
    assert (len(reading.notes), reading.more_notes) == (200, 800)
    assert (len(reading.problems), reading.more_problems) == (200, 800)
    stored = reading.as_json()
    assert stored["more_notes"] == 800 and stored["more_problems"] == 800 and stored["more_scope"] == 0
    many = parse_robots(
        b"User-agent: GPTBot\n" + b"".join(b"Disallow: /p%d/\n" % n for n in range(300)), host=HOST
    )
    assert (
        len(many.scope) == 300 and len(many.as_json()["scope"]) == 200 and many.as_json()["more_scope"] == 100
    )

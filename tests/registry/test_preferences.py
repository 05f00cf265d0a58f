"""registry.preferences: the three-valued vocabulary, "disallow wins", and checking a choice."""

from __future__ import annotations

import pytest

from registry.preferences import (
    LICENCE_URLS,
    Choice,
    Consent,
    ConsentError,
    Preference,
    attribution_problem,
    combine,
    consent_clean,
    licence_url_problem,
)


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([], "unknown"),
        (["unknown"], "unknown"),
        (["allowed", "unknown"], "allowed"),
        (["allowed", "disallowed"], "disallowed"),
        (["disallowed", "allowed", "unknown"], "disallowed"),
    ],
)
def test_it_combines_statements_and_disallow_wins(statements, expected):
    assert combine(statements) == expected


def test_it_refuses_a_word_outside_the_vocabulary():
    with pytest.raises(ValueError, match="not a preference: yes"):
        combine(["allowed", "yes"])


def test_each_choice_is_a_pair_of_preferences():
    assert (Consent(Choice.REMOVE).train_ai, Consent(Choice.REMOVE).search) == ("disallowed", "unknown")
    search_only = Consent(Choice.SEARCH_ONLY)
    assert (search_only.train_ai, search_only.search, search_only.is_removal) == (
        "disallowed",
        "allowed",
        True,
    )
    licence = Consent(Choice.LICENCE, "cc0", LICENCE_URLS["cc0"])
    assert (licence.train_ai, licence.search, licence.is_removal) == (Preference.ALLOWED, "unknown", False)


def test_a_creative_commons_licence_gets_its_canonical_url_and_keeps_the_attribution():
    consent = consent_clean(
        choice="licence",
        licence="cc-by-sa",
        licence_url="https://elsewhere.example/",
        attribution=" A. Artist ",
    )
    assert consent == Consent(
        "licence", "cc-by-sa", "https://creativecommons.org/licenses/by-sa/4.0/", "A. Artist"
    )


def test_a_removal_drops_what_was_sent_for_a_licence():
    assert consent_clean(choice="remove", licence="cc0", attribution="<b>x</b>") == Consent("remove")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"choice": "maybe"}, "choice", "Choose one of: remove, licence, search_only"),
        ({"choice": "licence", "licence": "gpl"}, "licence", "Choose a licence"),
        ({"choice": "licence", "licence": "cc-by"}, "attribution", "say how you want to be credited"),
        ({"choice": "licence", "licence": "custom", "licence_url": ""}, "licence_url", "Give the address"),
        (
            {"choice": "licence", "licence": "custom", "licence_url": "javascript:alert(1)"},
            "licence_url",
            "must start with http:// or https://",
        ),
        (
            {"choice": "licence", "licence": "custom", "licence_url": "ftp://x.example/l"},
            "licence_url",
            "must start with http:// or https://",
        ),
        (
            {"choice": "licence", "licence": "cc0", "attribution": "<a href=x>me</a>"},
            "attribution",
            "must be plain text",
        ),
    ],
)
def test_a_choice_that_cannot_be_recorded_names_its_field_and_what_to_do(fields, field, message):
    with pytest.raises(ConsentError, match=message) as caught:
        consent_clean(**fields)
    assert caught.value.field == field


@pytest.mark.parametrize(
    "url",
    ["https://", "http://user:pw@x.example/l", "https://x.example/a b", "https://x.example:port/", "h" * 501],
)
def test_it_refuses_licence_urls_that_are_not_a_plain_http_address(url):
    assert licence_url_problem(url)


def test_it_takes_a_custom_http_licence_url():
    assert licence_url_problem("http://licences.example/mine?v=2") == ""
    consent = consent_clean(choice="licence", licence="custom", licence_url="https://licences.example/mine")
    assert consent.licence_url == "https://licences.example/mine" and consent.attribution == ""


@pytest.mark.parametrize(
    "text",
    ["<script>x</script>", "A &amp; B", "A &#60;b&#62;", "1 < 2", "bell\x07", "x" * 301, "</i>"],
)
def test_attribution_with_markup_or_control_characters_is_refused(text):
    assert attribution_problem(text)


@pytest.mark.parametrize("text", ["Photo: A. Artist (CC BY)", "Ada & Co", "Line one\nhttps://a.example/"])
def test_plain_attribution_is_taken(text):
    assert attribution_problem(text) == ""

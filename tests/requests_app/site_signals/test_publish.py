"""The texts an artist publishes (site_signals.publish), read back by real parsers: Python's
urllib.robotparser for the Disallow rules, the package's own strict readers for every file (what
the site-signals page will find), and a JSON schema of the TDMRep report for tdmrep.json."""

from __future__ import annotations

import json
import urllib.robotparser
from pathlib import Path

import jsonschema
import pytest

from requests_app.site_signals import AI_TRAINING_AGENTS, parse_ai_txt, parse_robots, parse_tdmrep, publish

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "tdmrep.schema.json").read_text())
HOST = "art.example"


def robots(text: str) -> urllib.robotparser.RobotFileParser:
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(text.splitlines())
    return parser


@pytest.mark.parametrize("path", ["/", "/portfolio/"])
@pytest.mark.parametrize("key", ["reserve", "search-only"])
def test_a_reservation_is_read_back_as_exactly_its_scope(key, path):
    texts = publish.snippets(publish.PREFERENCES[key], path=path)
    scope = HOST if path == "/" else HOST + path
    for reading in (
        parse_robots(texts.robots_txt.encode(), host=HOST),
        parse_ai_txt(texts.ai_txt.encode(), host=HOST),
        parse_tdmrep(texts.tdmrep_json.encode(), host=HOST),
    ):
        assert [line.scope for line in reading.scope] == [scope] and reading.problems == []
    jsonschema.validate(json.loads(texts.tdmrep_json), SCHEMA, format_checker=jsonschema.FormatChecker())
    parser = robots(texts.robots_txt)
    inside, outside = f"https://{HOST}{path}work.png", f"https://{HOST}/elsewhere/work.png"
    assert not parser.can_fetch("GPTBot", inside) and not parser.can_fetch("CCBot/2.0", inside)
    assert parser.can_fetch("GPTBot", outside) == (path != "/")
    # Search engines' own crawlers are not touched.
    assert parser.can_fetch("Googlebot", inside) and parser.can_fetch("Bingbot", inside)
    usage = "train-ai=n" if key == "reserve" else "train-ai=n, search=y"
    assert f"Content-Usage: {'' if path == '/' else path + ' '}{usage}\n" in texts.robots_txt
    assert texts.headers == f"Content-Usage: {usage}\ntdm-reservation: 1\n"


def test_search_only_leaves_crawlers_that_also_serve_search_alone():
    reserve = robots(publish.robots_txt(publish.PREFERENCES["reserve"]))
    search = robots(publish.robots_txt(publish.PREFERENCES["search-only"]))
    url = f"https://{HOST}/work.png"
    assert not reserve.can_fetch("PerplexityBot", url) and search.can_fetch("PerplexityBot", url)
    assert "Content-Signal: search=yes, ai-train=no" in publish.robots_txt(publish.PREFERENCES["search-only"])
    assert all(
        not search.can_fetch(agent, url) for agent in AI_TRAINING_AGENTS if agent not in publish.SEARCH_TOO
    )


def test_allowing_training_reserves_nothing_and_says_so():
    texts = publish.snippets(publish.PREFERENCES["allow"], path="/portfolio/")
    assert parse_robots(texts.robots_txt.encode(), host=HOST).scope == []
    assert parse_ai_txt(texts.ai_txt.encode(), host=HOST).scope == []
    assert parse_tdmrep(texts.tdmrep_json.encode(), host=HOST).scope == []
    assert json.loads(texts.tdmrep_json) == [{"location": "/portfolio/*", "tdm-reservation": 0}]
    jsonschema.validate(json.loads(texts.tdmrep_json), SCHEMA)
    assert robots(texts.robots_txt).can_fetch("GPTBot", f"https://{HOST}/portfolio/a.png")
    assert "Content-Usage: /portfolio/ train-ai=y" in texts.robots_txt
    assert texts.headers == "Content-Usage: train-ai=y\ntdm-reservation: 0\n"


def test_unknown_makes_no_statement():
    texts = publish.snippets(publish.Preference(train_ai=None))
    assert "Content-Usage" not in texts.robots_txt and "Disallow" not in texts.robots_txt
    assert json.loads(texts.tdmrep_json) == [] and texts.headers == "\n"


@pytest.mark.parametrize(
    "path",
    [
        "portfolio/",  # not from the root
        "/a b/",
        "/a\nDisallow: /",  # a line break would write a rule of its own
        "/a\x00",
        "/*.png",
        "/a$",
        "/\ud800",
        "/" + "a" * 1001,
    ],
)
def test_a_path_that_cannot_be_written_is_refused_clearly(path):
    with pytest.raises(publish.PublishRefused) as refused:
        publish.snippets(publish.PREFERENCES["reserve"], path=path)
    assert "path" in str(refused.value)


def test_a_path_beyond_ascii_is_written_percent_encoded():
    texts = publish.snippets(publish.PREFERENCES["reserve"], path="/œuvres/")
    assert "Disallow: /%C5%93uvres/\n" in texts.robots_txt
    assert not robots(texts.robots_txt).can_fetch("GPTBot", f"https://{HOST}/%C5%93uvres/a.png")
    reading = parse_robots(texts.robots_txt.encode(), host=HOST)
    assert [line.scope for line in reading.scope] == [f"{HOST}/%C5%93uvres/"]

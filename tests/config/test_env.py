"""config.env: strict readers; an unset variable gives the default, a malformed one stops with its name."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.env import ImproperEnv, env_bool, env_int, env_list, env_path, env_str


@pytest.mark.parametrize(
    ("raw", "value"), [("1", True), (" Yes ", True), ("ON", True), ("0", False), ("", False), ("off", False)]
)
def test_booleans_take_the_usual_spellings(monkeypatch, raw, value):
    monkeypatch.setenv("FLAG", raw)
    assert env_bool("FLAG", not value) is value


def test_unset_variables_give_their_defaults(monkeypatch):
    for name in ("FLAG", "NUMBER", "NAMES", "PLACE", "WORD"):
        monkeypatch.delenv(name, raising=False)
    assert env_bool("FLAG", True) is True
    assert env_int("NUMBER", 7, minimum=10) == 7  # the minimum applies to what is set
    assert env_list("NAMES", ["a"]) == ["a"]
    assert env_path("PLACE", Path("/x")) == Path("/x")
    assert env_str("WORD", "w") == "w"


def test_a_malformed_boolean_or_number_names_its_variable(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperEnv, match="FLAG='maybe' is not a boolean"):
        env_bool("FLAG", False)
    monkeypatch.setenv("NUMBER", "1.5")
    with pytest.raises(ImproperEnv, match=r"NUMBER='1\.5' is not a whole number"):
        env_int("NUMBER", 0)
    monkeypatch.setenv("NUMBER", "3")
    with pytest.raises(ImproperEnv, match="NUMBER=3 is below the minimum of 4"):
        env_int("NUMBER", 0, minimum=4)
    assert env_int("NUMBER", 0, minimum=3) == 3


def test_lists_drop_blanks_and_paths_are_made_absolute(monkeypatch, tmp_path):
    monkeypatch.setenv("NAMES", " a, ,b ,")
    assert env_list("NAMES", []) == ["a", "b"]
    monkeypatch.setenv("NAMES", "")
    assert env_list("NAMES", ["default"]) == []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLACE", "var/../data")
    assert env_path("PLACE", Path("/x")) == tmp_path.resolve() / "data"
    monkeypatch.setenv("PLACE", "")
    assert env_path("PLACE", Path("/x")) == Path("/x")

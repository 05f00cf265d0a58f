"""/api/v1/ routes: every path answers with or without its trailing slash, never by redirect."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/api/v1/datasets", "/api/v1/datasets/"])
def test_it_answers_with_and_without_the_trailing_slash(api, path):
    response = api.get(path)
    assert response.status_code == 200
    assert response.json() == {"results": [], "next": None}


def test_it_accepts_a_post_without_the_trailing_slash(api):
    response = api.post("/api/v1/datasets", {"slug": "a", "name": "A"}, format="json")
    assert response.status_code == 201

"""requests_app.services as a package: it re-exports each topic module's functions under one name,
so callers write `services.request_submit(...)`, and one refusal class for all of them."""

from __future__ import annotations

import importlib
import inspect

import pytest

from requests_app import services

TOPICS = ["accounts", "artists", "completion", "conflicts", "moderation", "proofs", "submission", "works"]


def test_every_exported_name_exists_and_is_the_topic_modules_own():
    assert len(services.__all__) == len(set(services.__all__))
    for name in services.__all__:
        assert hasattr(services, name), name
    for topic in TOPICS:
        module = importlib.import_module(f"requests_app.services.{topic}")
        for name, value in vars(module).items():
            if name in services.__all__ and inspect.isfunction(value) and value.__module__ == module.__name__:
                assert getattr(services, name) is value, f"services.{name} is not {topic}.{name}"


@pytest.mark.parametrize("topic", TOPICS)
def test_each_public_function_of_a_topic_is_exported(topic):
    module = importlib.import_module(f"requests_app.services.{topic}")
    public = [
        value
        for name, value in vars(module).items()
        if not name.startswith("_") and inspect.isfunction(value) and value.__module__ == module.__name__
    ]
    assert public, topic
    missing = [function.__name__ for function in public if function.__name__ not in services.__all__]
    assert missing == [], f"{topic} functions not exported by services: {missing}"


def test_the_refusal_every_service_raises_is_one_class():
    from requests_app.services._ticket import ActionRefused

    assert services.ActionRefused is ActionRefused
    assert issubclass(ActionRefused, Exception)

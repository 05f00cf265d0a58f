"""Serializer fields for text a client sends (see core.text)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.text import is_clean_text, printable, validate_outside_text


class OutsideTextField(serializers.CharField):
    """A CharField for outside text: NULs and lone surrogates are a 400, never a 500."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(validate_outside_text)


class OutsideURLField(serializers.URLField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.insert(0, validate_outside_text)


class OutsideChoiceField(serializers.ChoiceField):
    """A ChoiceField whose error never echoes text that cannot be encoded."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and not is_clean_text(data):
            self.fail("invalid_choice", input=printable(data))
        return super().to_internal_value(data)

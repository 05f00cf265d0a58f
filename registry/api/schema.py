"""Teaches drf-spectacular how maintainers authenticate (imported by registry.apps), and which
names the enums of the document keep."""

from typing import Any

from drf_spectacular import hooks
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import list_hash


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "registry.api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A maintainer API key (rdk_...), as `Authorization: Bearer <key>`.",
        }


class CompatKeyScheme(OpenApiAuthenticationExtension):
    """`/api/v2/query/urls/` takes the key as `Authorization: API <key>`, which no http scheme names."""

    target_class = "registry.api.compat.CompatKeyAuthentication"
    name = "CompatApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A maintainer API key (rdk_...), as `Authorization: API <key>`.",
        }


# The enum components of the served document keep the names they were first served under.
# drf-spectacular names an enum after its field and, where fields of one name hold different
# choice sets, adds a part of the choices' hash and warns ("Search994Enum"): those names are
# pinned in settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"], which silences the warning and
# keeps the name even if the choices grow. Two fields hold the same choice set as another field
# but were served under a name of their own; the hook below tells them apart before the naming,
# by the hash drf-spectacular compares, so that both names stay. Only that hash changes: the
# document itself is the same, since the hash is removed before it is served.
def _own_choice_set(field: str, values: list[str]) -> list[tuple[str, str]]:
    return [(value, f"{field}: {value}") for value in values]


PREFERENCES_TRAIN_AI = _own_choice_set("Preferences.train_ai", ["allowed", "disallowed", "unknown"])
REMOVAL_REASON = _own_choice_set("Removal.reason", ["copyright", "likeness", "privacy"])
OWN_CHOICE_SETS = {("Preferences", "train_ai"): PREFERENCES_TRAIN_AI, ("Removal", "reason"): REMOVAL_REASON}


def postprocess_schema_enums(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular's enum naming, after the fields of OWN_CHOICE_SETS got their own hash."""
    schemas = result.get("components", {}).get("schemas", {})
    for (component, field), choices in OWN_CHOICE_SETS.items():
        schemas[component]["properties"][field]["x-spec-enum-id"] = list_hash(choices)
    return hooks.postprocess_schema_enums(result, generator, **kwargs)

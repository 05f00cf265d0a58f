"""Request and response shapes of the maintainer API (they also make the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..models import Dataset, WebhookDelivery, WebhookEndpoint, WebhookEventType
from ..serialize import iso
from ..services import MAX_ITEMS_PER_BATCH
from .fields import OutsideChoiceField, OutsideTextField, OutsideURLField


class DatasetSerializer(serializers.ModelSerializer[Dataset]):
    slug = serializers.SlugField(max_length=100)
    name = OutsideTextField(max_length=200)
    homepage = OutsideURLField(required=False, allow_blank=True, default="", max_length=200)
    description = OutsideTextField(required=False, allow_blank=True, default="")

    class Meta:
        model = Dataset
        fields = ["slug", "name", "homepage", "description", "created_at"]
        read_only_fields = ["created_at"]


class DatasetPageSerializer(serializers.Serializer[Any]):
    results = DatasetSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="The next page's cursor; null on the last page.")


class ItemSerializer(serializers.Serializer[Any]):
    """One index row (documentation only: rows are validated one by one by the service)."""

    external_id = serializers.CharField(max_length=200)
    url = serializers.URLField()
    phash = serializers.RegexField(r"^[0-9a-f]{16}$", required=False, allow_null=True)
    dhash = serializers.RegexField(r"^[0-9a-f]{16}$", required=False, allow_null=True)
    pdq = serializers.RegexField(r"^[0-9a-f]{64}$", required=False, allow_null=True)
    pdq_quality = serializers.IntegerField(
        min_value=0,
        max_value=100,
        required=False,
        allow_null=True,
        help_text="PDQ's quality score as the hasher prints it; with pdq only. A low score (little "
        "detail) means the PDQ never counts as a second hash agreeing on a match.",
    )


class ItemsUpsertSerializer(serializers.Serializer[Any]):
    items = serializers.ListField(child=serializers.JSONField(), allow_empty=True)


class RejectedRowSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField()
    error = serializers.CharField()


class ItemsUpsertResultSerializer(serializers.Serializer[Any]):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    rejected = RejectedRowSerializer(many=True)


class RemovalSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    dataset = serializers.CharField()
    external_id = serializers.CharField(allow_null=True)
    url = serializers.CharField(allow_null=True)
    phash = serializers.CharField(allow_null=True)
    pdq = serializers.CharField(allow_null=True)
    reason = serializers.ChoiceField(choices=["copyright", "likeness", "privacy"])
    request = serializers.CharField()
    approved_at = serializers.DateTimeField()
    state = serializers.ChoiceField(choices=["pending", "delivered", "acknowledged", "revoked"])
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    # A field named like Field.source (a str in the stubs): DRF's metaclass takes declared fields
    # off the class, so nothing is shadowed at run time; `Any` tells the type checker so.
    source: Any = serializers.ChoiceField(
        choices=["artist", "partner"],
        help_text="Who asked: the artist's own request, or a partner platform filing for its creators.",
    )
    partner = serializers.CharField(help_text='The partner\'s public name; "" when an artist asked.')
    revoked_at = serializers.DateTimeField(
        allow_null=True, help_text="When it was revoked; null while it stands."
    )
    revoked_reason = serializers.CharField(help_text='Why it was revoked; "" while it stands.')
    train_ai = serializers.ChoiceField(
        choices=["disallowed"],
        help_text="The AI preferences category train-ai: a removal always disallows training.",
    )
    search = serializers.ChoiceField(
        choices=["allowed", "unknown"],
        help_text='The category search: "allowed" when the artist allowed search indexing '
        '(but not training), "unknown" when they said nothing about it.',
    )


class RevocationPageSerializer(serializers.Serializer[Any]):
    results = RemovalSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="The next page's cursor; null on the last page.")
    poll = serializers.CharField(
        help_text="The cursor just after this page: keep the last one and poll with it later."
    )


class RemovalPageSerializer(RevocationPageSerializer):
    recorded = serializers.IntegerField(
        allow_null=True,
        help_text="On the last page (next null): how many removals of this data set were recorded up "
        "to this page's end, revoked ones included, to check a copy against; null on the others.",
    )


class AckSerializer(serializers.Serializer[Any]):
    ids = serializers.ListField(
        child=OutsideTextField(max_length=100), allow_empty=False, max_length=MAX_ITEMS_PER_BATCH
    )


class AckResultSerializer(serializers.Serializer[Any]):
    acknowledged = serializers.IntegerField()
    unknown = serializers.ListField(child=serializers.CharField())


class WebhookCreateSerializer(serializers.Serializer[Any]):
    url = OutsideURLField(
        max_length=2000,
        help_text=(
            "http(s) URL of a public address: names that resolve to loopback, private or link-local "
            "addresses are refused (400 webhook_url_refused) unless the server allows loopback."
        ),
    )
    events = serializers.ListField(
        child=OutsideChoiceField(choices=WebhookEventType.values), allow_empty=False
    )
    datasets = serializers.ListField(child=serializers.SlugField(), required=False, default=list)


class WebhookSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    datasets = serializers.ListField(child=serializers.CharField())
    enabled = serializers.BooleanField()
    disabled_reason = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class WebhookPageSerializer(serializers.Serializer[Any]):
    results = WebhookSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="The next page's cursor; null on the last page.")


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(help_text="The signing secret (whsec_...). Shown only in this answer.")


def webhook_to_dict(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.public_id,
        "url": endpoint.url,
        "events": list(endpoint.event_types),
        "datasets": sorted(d.slug for d in endpoint.datasets.all()),
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": iso(endpoint.created_at),
    }


class ErrorDetailSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()


class ErrorSerializer(serializers.Serializer[Any]):
    error = ErrorDetailSerializer()


class SecretSerializer(serializers.Serializer[Any]):
    secret = serializers.CharField()


class DeliverySerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    event_id = serializers.CharField(help_text="The webhook-id header: the same on every attempt.")
    event_type = serializers.CharField()
    state = serializers.ChoiceField(choices=["pending", "succeeded", "failed"])
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    succeeded_at = serializers.DateTimeField(allow_null=True)


class DeliveryPageSerializer(serializers.Serializer[Any]):
    results = DeliverySerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="The next page's cursor; null on the last page.")


def delivery_to_dict(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.public_id,
        "event_id": delivery.event.public_id,
        "event_type": delivery.event.event_type,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "next_attempt_at": iso(delivery.next_attempt_at),
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "created_at": iso(delivery.created_at),
        "succeeded_at": iso(delivery.succeeded_at),
    }


class LookupSerializer(serializers.Serializer[Any]):
    urls = serializers.ListField(child=OutsideTextField(max_length=4096), required=False, default=list)
    phashes = serializers.ListField(child=OutsideTextField(max_length=64), required=False, default=list)


class RemovalOriginSerializer(serializers.Serializer[Any]):
    source: Any = serializers.ChoiceField(choices=["artist", "partner"])  # as above
    partner = serializers.CharField()


class LicenceGrantSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    dataset = serializers.CharField()
    external_id = serializers.CharField(allow_null=True)
    url = serializers.CharField(allow_null=True)
    phash = serializers.CharField(allow_null=True)
    pdq = serializers.CharField(allow_null=True)
    request = serializers.CharField()
    train_ai = serializers.ChoiceField(choices=["allowed"], help_text="A licence grant allows training.")
    search = serializers.ChoiceField(choices=["allowed", "unknown"])
    licence = serializers.ChoiceField(choices=["cc0", "cc-by", "cc-by-sa", "custom"])
    licence_url = serializers.CharField(help_text="The licence's http(s) address.")
    attribution = serializers.CharField(
        help_text='Plain text: how the artist asks to be credited ("" for none).'
    )
    source: Any = serializers.ChoiceField(choices=["artist", "partner"])  # as above
    partner = serializers.CharField()
    granted_at = serializers.DateTimeField()
    state = serializers.ChoiceField(choices=["active", "revoked"])
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoked_reason = serializers.CharField()


class LicenceGrantPageSerializer(serializers.Serializer[Any]):
    results = LicenceGrantSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="The next page's cursor; null on the last page.")
    poll = serializers.CharField(
        help_text="The cursor just after this page: keep the last one and poll with it later."
    )


class PreferencesSerializer(serializers.Serializer[Any]):
    train_ai = serializers.ChoiceField(choices=["allowed", "disallowed", "unknown"])
    search = serializers.ChoiceField(choices=["allowed", "disallowed", "unknown"])


class DomainRuleSerializer(serializers.Serializer[Any]):
    scope = serializers.CharField(help_text="e.g. `example.com`, `*.example.com`, `example.com/portfolio/`.")
    choice = serializers.ChoiceField(choices=["remove", "search_only", "licence"])
    train_ai = serializers.ChoiceField(choices=["allowed", "disallowed"])
    search = serializers.ChoiceField(choices=["allowed", "unknown"])
    licence = serializers.CharField(
        help_text='For a licensing rule: cc0, cc-by, cc-by-sa or custom; else "".'
    )
    licence_url = serializers.CharField(
        help_text='For a licensing rule: the licence\'s http(s) address; else "".'
    )
    attribution = serializers.CharField(
        help_text='Plain text: how the artist asks to be credited ("" for none).'
    )
    request = serializers.CharField()
    source: Any = serializers.ChoiceField(choices=["artist", "partner"])  # as above
    partner = serializers.CharField()
    approved_at = serializers.DateTimeField()


class LookupResultSerializer(serializers.Serializer[Any]):
    urls = serializers.DictField(child=serializers.BooleanField())
    phashes = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    domains = serializers.DictField(
        child=serializers.CharField(),
        help_text="For each URL under a domain opt-out: its scope, e.g. `*.example.com/portfolio/`.",
    )
    sources = serializers.DictField(
        child=RemovalOriginSerializer(many=True),
        help_text="For each removed URL: who asked (`artist`, or `partner` with its public name).",
    )
    licences = serializers.DictField(
        child=LicenceGrantSerializer(many=True),
        help_text="For each URL a standing licence grant covers: the grants (licence, attribution).",
    )
    preferences = serializers.DictField(
        child=PreferencesSerializer(),
        help_text="For each URL asked: train_ai and search, each allowed, disallowed or unknown, "
        "combined over every statement about it (disallowed wins).",
    )
    domain_rules = serializers.DictField(
        child=DomainRuleSerializer(many=True),
        help_text="For each URL under an active domain rule: the rules covering it with their choice "
        "(the removing rule first; a URL under a removing and a licensing rule is removed).",
    )


class ImportUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(help_text="CSV (with a header row), NDJSON or Parquet.")


class ImportErrorSerializer(serializers.Serializer[Any]):
    line = serializers.IntegerField(help_text="Line number (CSV, NDJSON) or row number (Parquet).")
    error = serializers.CharField()


class ImportSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    dataset = serializers.CharField()
    status = serializers.ChoiceField(choices=["queued", "running", "succeeded", "failed"])
    processed = serializers.IntegerField()
    total = serializers.IntegerField(allow_null=True)
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    error_count = serializers.IntegerField()
    # A field named like Serializer.errors: fine at run time (the metaclass collects fields).
    errors = ImportErrorSerializer(many=True, help_text="The first 1,000 bad rows.")  # type: ignore[assignment]
    message = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

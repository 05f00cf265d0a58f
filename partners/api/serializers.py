"""Request and response shapes of the partner API (they also make the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from registry.models import RemovalReason

from ..models import FilingState, RowChoice, RowState

HEX16 = r"^[0-9a-f]{16}$"


class CreatorSerializer(serializers.Serializer[Any]):
    id = serializers.CharField(max_length=200, help_text="The creator's id on the platform.")
    profile_url = serializers.URLField(help_text="The creator's profile, on one of the partner's domains.")
    email = serializers.EmailField(required=False, help_text="Where the creator can be reached to claim.")


class FilingRowSerializer(serializers.Serializer[Any]):
    """One row (documentation only: rows are validated one by one by the service)."""

    creator = CreatorSerializer()
    work_url = serializers.URLField(help_text="The work's page or image on one of the partner's domains.")
    phash = serializers.RegexField(HEX16, required=False, allow_null=True)
    dhash = serializers.RegexField(HEX16, required=False, allow_null=True)
    pdq = serializers.RegexField(r"^[0-9a-f]{64}$", required=False, allow_null=True)
    pdq_quality = serializers.IntegerField(min_value=0, max_value=100, required=False, allow_null=True)
    image_url = serializers.URLField(
        required=False,
        help_text="The image on one of the partner's domains: fetched and hashed if the row has no hashes.",
    )
    basis = serializers.ChoiceField(choices=RemovalReason.values)
    choice = serializers.ChoiceField(choices=RowChoice.values)


class FilingCreateSerializer(serializers.Serializer[Any]):
    attestation = serializers.BooleanField(
        help_text="true: you hold the instruction of every creator in this filing, as your agreement says."
    )
    rows = serializers.ListField(child=FilingRowSerializer(), max_length=10_000)


class RowProblemSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField()
    field = serializers.CharField()
    error = serializers.CharField()


class DuplicateSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField()
    filing = serializers.CharField(help_text="The filing that holds the same row first.")
    row = serializers.IntegerField(help_text="Its index in that filing.")


class FilingSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    state = serializers.ChoiceField(choices=FilingState.values)
    total = serializers.IntegerField()
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text=f"Rows per state: {', '.join(RowState.values)}."
    )
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class FilingCreatedSerializer(FilingSerializer):
    rejected = RowProblemSerializer(many=True)
    duplicates = DuplicateSerializer(many=True)


class FilingPageSerializer(serializers.Serializer[Any]):
    results = FilingSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="The next page's cursor; null on the last page.")


class RowSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField()
    state = serializers.ChoiceField(choices=RowState.values)
    creator_id = serializers.CharField()
    work_url = serializers.CharField()
    basis = serializers.CharField()
    matched = serializers.IntegerField(help_text="Registered items the row matched.")
    field = serializers.CharField(allow_blank=True, help_text="For a rejected row: the field at fault.")
    error = serializers.CharField(allow_blank=True, help_text="Why it was rejected, or what it duplicates.")


class RowPageSerializer(serializers.Serializer[Any]):
    results = RowSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="The next page's cursor; null on the last page.")

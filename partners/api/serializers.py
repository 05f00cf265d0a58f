"""Request and response shapes of the partner API (they also make the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from registry.models import RemovalReason
from registry.preferences import Licence

from ..models import FilingSource, FilingState, RowChoice, RowState

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
    licence = serializers.ChoiceField(
        choices=Licence.values, required=False, help_text="With choice licence: which licence."
    )
    licence_url = serializers.URLField(
        required=False, help_text="With licence custom: the licence's http(s) address (ignored otherwise)."
    )
    attribution = serializers.CharField(
        required=False,
        max_length=300,
        help_text="With choice licence: how the creator asks to be credited, plain text (no markup); "
        "required for cc-by and cc-by-sa.",
    )


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


class ChoiceChangeSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField()
    filing = serializers.CharField(help_text="The filing that holds the row whose choice changed.")
    row = serializers.IntegerField(help_text="Its index in that filing.")
    old = serializers.ChoiceField(choices=RowChoice.values, help_text="The choice it had.")
    new = serializers.ChoiceField(choices=RowChoice.values, help_text="The choice this row states.")
    applied = serializers.BooleanField(
        help_text="false in this answer: a change is applied when the row sent is decided (after the "
        "filing's sample, by the policy or the desk); its row's `error` then says whether it was."
    )


class ProgressSerializer(serializers.Serializer[Any]):
    rows_read = serializers.IntegerField(help_text="Rows read and stored (a JSON batch: all of them).")
    rows_total = serializers.IntegerField(
        allow_null=True, help_text="Rows the file holds, counted before reading; null when not countable."
    )


class FilingFileSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    format = serializers.ChoiceField(choices=["csv", "ndjson", "parquet"])
    size = serializers.IntegerField(help_text="Bytes announced.")
    received = serializers.IntegerField(help_text="Bytes received: the offset to send the next chunk from.")
    chunk_size = serializers.IntegerField(help_text="The largest chunk one PATCH may carry.")
    url = serializers.CharField(help_text="Where its chunks go (PATCH) and where it stands (GET).")


class FilingSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    state = serializers.ChoiceField(choices=FilingState.values)
    total = serializers.IntegerField()
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text=f"Rows per state: {', '.join(RowState.values)}."
    )
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    source = serializers.ChoiceField(choices=FilingSource.values, help_text="json: a batch; file: a file.")  # type: ignore[assignment]  # a declared field, not Field.source
    progress = ProgressSerializer()
    file = FilingFileSerializer(allow_null=True, help_text="The file of a file filing; null for a batch.")
    message = serializers.CharField(allow_blank=True, help_text="Why a failed file could not be read.")


class FilingCreatedSerializer(FilingSerializer):
    rejected = RowProblemSerializer(many=True)
    duplicates = DuplicateSerializer(many=True)
    changes = ChoiceChangeSerializer(
        many=True,
        help_text="Rows that name a row filed before (same creator, work and hashes) with another "
        "choice: that row's choice changed, its statement restated.",
    )


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
    line = serializers.IntegerField(
        allow_null=True,
        help_text="In a file: the row's line (CSV, header included; NDJSON) or row number (Parquet); "
        "null in a batch.",
    )
    lifted_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the creator, having claimed their account on Removal Desk, lifted the row (its "
        "removals revoked, its licence grants withdrawn); null if not. A lifted row keeps its state.",
    )


class RowPageSerializer(serializers.Serializer[Any]):
    results = RowSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="The next page's cursor; null on the last page.")


# --- file filings -----------------------------------------------------------


class FileFilingCreateSerializer(serializers.Serializer[Any]):
    attestation = serializers.BooleanField(
        help_text="true: you hold the instruction of every creator in this file, as your agreement says."
    )
    name = serializers.CharField(max_length=255, help_text="The file's name (rows.csv, rows.ndjson, ...).")
    size = serializers.IntegerField(min_value=1, help_text="The file's size in bytes.")
    format = serializers.ChoiceField(
        choices=["csv", "ndjson", "parquet"], required=False, help_text="Default: from the name's extension."
    )
    sha256 = serializers.RegexField(
        r"^[0-9a-f]{64}$", required=False, help_text="The file's SHA-256, checked once it is all in."
    )


class FileStateSerializer(serializers.Serializer[Any]):
    offset = serializers.IntegerField(help_text="Bytes the server holds: send the next chunk from here.")
    size = serializers.IntegerField()
    chunk_size = serializers.IntegerField()
    state = serializers.ChoiceField(choices=FilingState.values)
    message = serializers.CharField(allow_blank=True)

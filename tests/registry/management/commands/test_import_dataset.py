"""manage.py import_dataset: imports a local index file with progress and explains what it cannot do."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from registry import services
from registry.models import ImportJob, ImportStatus
from tests.helpers import index_csv


def test_the_command_imports_with_progress_and_explains_errors(dataset, tmp_path):
    path = tmp_path / "index.ndjson"
    path.write_text(
        "\n".join(json.dumps({"external_id": str(i), "url": f"https://i.example/{i}"}) for i in range(5))
    )
    out, err = StringIO(), StringIO()
    call_command("import_dataset", "d", str(path), stdout=out, stderr=err)
    assert "5 created, 0 updated, 0 rejected" in out.getvalue()
    assert "Importing into d" in err.getvalue()
    with pytest.raises(CommandError, match="No data set"):
        call_command("import_dataset", "nope", str(path))
    with pytest.raises(CommandError, match="not a readable file"):
        call_command("import_dataset", "d", str(tmp_path / "missing.csv"))


def test_the_command_resumes_an_import_by_its_id(dataset, tmp_path):
    path = tmp_path / "index.csv"
    path.write_bytes(index_csv(3))
    job = services.import_create(dataset=dataset, upload=io.BytesIO(index_csv(3)), name="i.csv")
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED, message="the worker died")
    out = StringIO()
    call_command("import_dataset", "d", str(path), "--resume", job.public_id, stdout=out, stderr=StringIO())
    assert f"{job.public_id}: 3 created, 0 updated, 0 rejected." in out.getvalue()
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.SUCCEEDED
    with pytest.raises(CommandError, match="No import imp_nope"):
        call_command("import_dataset", "d", str(path), "--resume", "imp_nope")


def test_resuming_leaves_a_job_alone_while_its_worker_is_alive(dataset, tmp_path):
    path = tmp_path / "index.csv"
    path.write_bytes(index_csv(3))
    job = services.import_create(dataset=dataset, upload=io.BytesIO(index_csv(3)), name="i.csv")
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, heartbeat_at=timezone.now())
    with pytest.raises(CommandError, match=f"{job.public_id} is being processed by a worker already"):
        call_command("import_dataset", "d", str(path), "--resume", job.public_id, stderr=StringIO())
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.RUNNING

    # once its worker has stopped beating, the job is taken over and finishes
    stale = timezone.now() - services.STALE_AFTER - timedelta(seconds=1)
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=stale)
    out = StringIO()
    call_command("import_dataset", "d", str(path), "--resume", job.public_id, stdout=out, stderr=StringIO())
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.SUCCEEDED

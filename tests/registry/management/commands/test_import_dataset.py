"""manage.py import_dataset: imports a local index file with progress and explains what it cannot do."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command


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

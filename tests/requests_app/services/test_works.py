"""A zip's accepted members, read one at a time as works."""

from __future__ import annotations

import io
import zipfile

from requests_app.services import works


def _archive(names: list[str]) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(f"folder/{name}", name.encode())
    buffer.seek(0)
    return zipfile.ZipFile(buffer)


def test_the_members_read_by_index_and_by_slice():
    archive = _archive(["a.png", "b.png", "c.png"])
    accepted, errors = works.zip_members_check(archive)
    members = works._ZipMembers(archive, accepted, errors)
    assert len(members) == 3
    assert (members[0].name, members[-1].name) == ("a.png", "c.png")
    assert members[1].read() == b"b.png"
    assert [m.name for m in members[1:]] == ["b.png", "c.png"]
    assert [m.name for m in members[::2]] == ["a.png", "c.png"]
    assert [m.name for m in members] == ["a.png", "b.png", "c.png"]
    assert errors == []

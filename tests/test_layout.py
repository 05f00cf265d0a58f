"""The house rules of the code's layout (docs/architecture.md), checked on every run.

- no project module outside migrations and tests is longer than 600 lines;
- registry imports neither requests_app, partners nor config, core imports no app nor config,
  requests_app does not import partners, partners does not import config;
- at least 80% of the modules of 100 lines or more have a test module named after them at the
  mirrored path (`requests_app/services/moderation.py` -> `tests/requests_app/services/test_moderation.py`);
- at most 10 `type: ignore` comments remain in the apps.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import ROOT

PACKAGES = ("config", "core", "registry", "requests_app", "partners")
MAX_LINES = 600
MAX_TYPE_IGNORES = 10
MIRRORED_SHARE = 0.8


def _modules() -> list[Path]:
    found: list[Path] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            found.append(path)
    return found


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def mirrored_test(path: Path) -> Path:
    """Where the test module of a project module lives: the same path under tests/, `test_` + name."""
    relative = path.relative_to(ROOT)
    if relative.stem == "__init__":  # a package is tested beside its parent: admin/ -> test_admin.py
        return ROOT / "tests" / relative.parent.parent / f"test_{relative.parent.name}.py"
    return ROOT / "tests" / relative.parent / f"test_{relative.stem.lstrip('_')}.py"


def test_no_module_is_longer_than_600_lines() -> None:
    too_long = {str(p.relative_to(ROOT)): _lines(p) for p in _modules() if _lines(p) > MAX_LINES}
    assert too_long == {}, f"modules over {MAX_LINES} lines: {too_long}"


def test_arrows_point_one_way() -> None:
    wrong: list[str] = []
    for path in _modules():
        package = path.relative_to(ROOT).parts[0]
        forbidden = {
            "core": {"registry", "requests_app", "partners", "config"},
            "registry": {"requests_app", "partners", "config"},
            "requests_app": {"partners"},
            "partners": {"config"},
        }
        for name in _imported(path) & forbidden.get(package, set()):
            wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_most_large_modules_have_a_test_module_named_after_them() -> None:
    large = [p for p in _modules() if _lines(p) >= 100]
    missing = [str(p.relative_to(ROOT)) for p in large if not mirrored_test(p).exists()]
    share = 1 - len(missing) / len(large)
    assert share >= MIRRORED_SHARE, (
        f"{share:.0%} of {len(large)} modules of 100+ lines have a mirrored test module; missing: {missing}"
    )


def test_type_ignores_are_few() -> None:
    where = [
        f"{p.relative_to(ROOT)}:{number}"
        for p in _modules()
        for number, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if "type: ignore" in line
    ]
    assert len(where) <= MAX_TYPE_IGNORES, f"{len(where)} type ignores: {where}"


def test_mirrored_test_paths() -> None:
    assert mirrored_test(ROOT / "requests_app/services/moderation.py") == (
        ROOT / "tests/requests_app/services/test_moderation.py"
    )
    assert mirrored_test(ROOT / "requests_app/services/_ticket.py") == (
        ROOT / "tests/requests_app/services/test_ticket.py"
    )
    assert mirrored_test(ROOT / "requests_app/admin/__init__.py") == ROOT / "tests/requests_app/test_admin.py"

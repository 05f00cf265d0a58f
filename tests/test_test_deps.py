"""`make test` installs what the suite needs besides Python packages (scripts/test_deps.sh).

The machine's chromium and gettext stay installed: the script runs with a PATH that hides
`chromium` and `msgfmt` (a folder of links to every other command), an `apt-get` there that
records its arguments and "installs" by linking the real command into that folder, and a copy
of tests/browser without node_modules, into which the real `npm ci` installs axe-core.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HIDDEN = {"chromium", "msgfmt", "apt-get", "sudo"}


def _fake_apt_get(path: Path, bindir: Path, calls: Path) -> None:
    real = {"chromium": shutil.which("chromium"), "gettext": shutil.which("msgfmt")}
    assert all(real.values()), "this test links the machine's chromium and msgfmt into place"
    path.write_text(
        "#!/bin/bash\n"
        f'echo "$*" >> {calls}\n'
        'if [ "$1" = install ]; then\n'
        '  for package in "$@"; do\n'
        '    case "$package" in\n'
        f"      chromium) ln -sf {real['chromium']} {bindir}/chromium ;;\n"
        f"      gettext) ln -sf {real['gettext']} {bindir}/msgfmt ;;\n"
        "    esac\n"
        "  done\n"
        "fi\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def fresh(tmp_path: Path) -> dict[str, Path]:
    """A copy of the project's script and tests/browser (no node_modules), and a PATH without
    chromium and msgfmt."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "test_deps.sh", repo / "scripts" / "test_deps.sh")
    (repo / "tests" / "browser").mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(ROOT / "tests" / "browser" / name, repo / "tests" / "browser" / name)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(folder):
            continue
        for entry in os.scandir(folder):
            target = bindir / entry.name
            if entry.name in HIDDEN or target.exists() or target.is_symlink():
                continue
            if entry.is_file() and os.access(entry.path, os.X_OK):
                target.symlink_to(entry.path)
    calls = tmp_path / "apt-get.calls"
    _fake_apt_get(bindir / "apt-get", bindir, calls)
    return {"repo": repo, "bin": bindir, "calls": calls}


def run_script(fresh: dict[str, Path]) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(fresh["bin"]), "HOME": os.environ.get("HOME", "/root")}
    return subprocess.run(
        ["bash", str(fresh["repo"] / "scripts" / "test_deps.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_it_installs_what_is_missing_then_is_quick_and_silent(fresh):
    assert shutil.which("chromium", path=str(fresh["bin"])) is None
    assert shutil.which("msgfmt", path=str(fresh["bin"])) is None

    first = run_script(fresh)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert len(lines) == 3, lines
    assert lines[0].startswith("make test: installing chromium (apt-get install -y chromium)")
    assert lines[1].startswith("make test: installing gettext (apt-get install -y gettext)")
    assert lines[2].startswith("make test: installing axe-core (npm ci --prefix tests/browser)")
    assert fresh["calls"].read_text().splitlines() == ["update", "install -y chromium gettext"]
    axe = fresh["repo"] / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
    assert axe.stat().st_size > 100_000  # the real axe-core, from the real npm ci
    assert shutil.which("chromium", path=str(fresh["bin"]))

    started = time.monotonic()
    again = run_script(fresh)
    elapsed = time.monotonic() - started
    assert again.returncode == 0, again.stderr
    assert again.stdout == "" and again.stderr == ""
    assert fresh["calls"].read_text().splitlines() == ["update", "install -y chromium gettext"]
    assert elapsed < 2


def test_a_changed_lock_file_reinstalls_axe_core(fresh):
    assert run_script(fresh).returncode == 0
    lock = fresh["repo"] / "tests" / "browser" / "package-lock.json"
    later = time.time() + 5
    os.utime(lock, (later, later))
    again = run_script(fresh)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        "make test: installing axe-core (npm ci --prefix tests/browser): the browser tests inject it"
    ]


def test_a_failed_install_stops_with_its_output(fresh):
    failing = fresh["bin"] / "apt-get"
    failing.write_text("#!/bin/bash\necho 'E: Unable to locate package chromium' >&2\nexit 100\n")
    result = run_script(fresh)
    assert result.returncode == 1
    assert "make test: apt-get update failed; its last lines:" in result.stderr
    assert "E: Unable to locate package chromium" in result.stderr


def test_make_test_runs_it_first():
    plan = subprocess.run(
        ["make", "-n", "test", "PYTEST_ARGS=tests/none"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    steps = [line for line in plan if "test_deps.sh" in line or "pytest" in line]
    assert "test_deps.sh" in steps[0] and "pytest" in steps[-1]


def test_without_root_it_uses_sudo_or_says_what_to_do(fresh):
    fake_id = fresh["bin"] / "id"
    fake_id.unlink()
    fake_id.write_text("#!/bin/bash\necho 1000\n")
    fake_id.chmod(0o755)
    refused = run_script(fresh)
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        "make test: apt-get needs root and sudo is not installed; run 'make test' as root once."
    ]
    assert not fresh["calls"].exists()

    sudo = fresh["bin"] / "sudo"
    sudo.write_text(f'#!/bin/bash\necho "sudo $*" >> {fresh["calls"]}\nexec "$@"\n')
    sudo.chmod(0o755)
    through_sudo = run_script(fresh)
    assert through_sudo.returncode == 0, through_sudo.stderr
    calls = fresh["calls"].read_text().splitlines()
    assert calls[0] == "sudo apt-get update" and calls[2].startswith(
        "sudo env DEBIAN_FRONTEND=noninteractive"
    )

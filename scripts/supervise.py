"""Run a set of processes together: if one exits, or on Ctrl-C / SIGTERM, stop them all."""

from __future__ import annotations

import signal
import subprocess
import sys
import time


def supervise(processes: dict[str, subprocess.Popen[bytes]], *, grace_seconds: float, label: str) -> int:
    """Wait on `processes`; the exit status for the caller (0 on Ctrl-C or SIGTERM)."""

    def stop() -> None:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(
                        f"{label}: {name} exited with code {process.returncode}; stopping the rest.",
                        flush=True,
                    )
                    stop()
                    return process.returncode or 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop short
        print(f"\n{label}: stopping…", flush=True)
        stop()
    return 0

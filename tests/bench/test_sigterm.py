"""A terminated bench exits through SystemExit, which stops the processes it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap


def test_sigterm_kills_the_child_the_bench_waits_on() -> None:
    """The script waits on a child with ``subprocess.call``, as ``bench.train_time`` does."""
    script = textwrap.dedent(
        """
        import signal, subprocess, sys
        from bench.cli import exit_on_sigterm
        signal.signal(signal.SIGTERM, exit_on_sigterm)
        sleeper = "import os, time; print(os.getpid(), flush=True); time.sleep(60)"
        subprocess.call([sys.executable, "-c", sleeper])
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    ) as bench:
        assert bench.stdout is not None
        child_pid = int(bench.stdout.readline())

        bench.send_signal(signal.SIGTERM)

        assert bench.wait(timeout=30) == 128 + signal.SIGTERM
    assert not child_alive(child_pid)


def child_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not open(f"/proc/{pid}/stat").read().split(") ")[1].startswith("Z")

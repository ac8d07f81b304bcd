"""Run ``ramancam`` commands in a child process with a time limit, for damaged files that once
hung a reader or crashed the interpreter: a regression then fails the test (a timeout, a
signal's return code) instead of hanging the suite or killing pytest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

_CHILD = """
import contextlib, io, json, sys
from ramancam.cli import main
done = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(argv)
    done.append([rc, err.getvalue()])
print(json.dumps(done))
"""


def ramancam_child(*argvs: list[object], timeout: float = 60.0) -> list[tuple[int, str]]:
    """Each ``ramancam ARGV...`` (the package under test, ``cli.main``) in turn in one child
    Python: ``(return code, stderr)`` of each. Fails the test when the child runs past
    ``timeout`` seconds or dies (a signal: a segmentation fault, a bus error)."""
    import ramancam

    src = str(Path(ramancam.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (src, os.environ.get("PYTHONPATH")) if p)}
    calls = json.dumps([[str(a) for a in argv] for argv in argvs])
    what = f"ramancam {' '.join(map(str, argvs[0]))} (of {len(argvs)} commands)"
    try:
        run = subprocess.run([sys.executable, "-c", _CHILD, calls], capture_output=True,
                             text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} ran past {timeout} s (a hang)")
    if run.returncode != 0:
        pytest.fail(f"{what} died with return code {run.returncode} "
                    f"(negative: the signal): {run.stderr[-2000:]}")
    return [(rc, err) for rc, err in json.loads(run.stdout.splitlines()[-1])]

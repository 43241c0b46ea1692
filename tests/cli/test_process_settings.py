"""The ``eventpipe`` command's own process settings: huge pages for torch, with their off switch."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CHILD = """
import os, sys
from eventpipe.cli.main import main
sys.argv = ["eventpipe", "--version"]
try:
    main()
except SystemExit as exc:
    code = exc.code
print("THP", os.environ.get("THP_MEM_ALLOC_ENABLE"), code, file=sys.stderr)
"""


def _run(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("THP_MEM_ALLOC_ENABLE", "EVENTPIPE_HUGE_PAGES")}
    return subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120,
                          env={**base, **env})


@pytest.mark.parametrize(("env", "thp"), [({}, "1"), ({"EVENTPIPE_HUGE_PAGES": "0"}, "None"),
                                          ({"THP_MEM_ALLOC_ENABLE": "0"}, "0")])
def test_the_command_sets_huge_pages_unless_told_not_to(env: dict[str, str], thp: str) -> None:
    done = _run(**env)
    assert done.stderr.split()[-3:] == ["THP", thp, "0"], done.stderr  # --version exits with 0
    assert done.stdout.startswith("eventpipe ")


def test_a_bad_switch_value_is_one_line_and_exit_code_2() -> None:
    done = _run(EVENTPIPE_HUGE_PAGES="sometimes")
    assert "error: Unknown value 'sometimes' for environment variable EVENTPIPE_HUGE_PAGES" in done.stderr
    assert done.stderr.split()[-1] == "2" and "Traceback" not in done.stderr

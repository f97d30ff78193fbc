"""ruff keeps the code to one style; run here so that CI enforces it."""

import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers.servers import REPO


def ruff() -> str:
    beside = Path(sys.executable).parent / "ruff"
    found = str(beside) if beside.exists() else shutil.which("ruff")
    assert found, "ruff is in the test extras: pip install -e '.[test]'"
    return found


def test_ruff_check_is_clean():
    result = subprocess.run([ruff(), "check", "."], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = subprocess.run(
        [ruff(), "format", "--check", "."], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr

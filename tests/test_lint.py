"""ruff's lint and format checks, configured in pyproject.toml, hold over the whole tree."""

import subprocess
import sys

import pytest

from conftest import PROJECT


@pytest.mark.parametrize("check", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_is_clean(check):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *check, "--no-cache", "."],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr

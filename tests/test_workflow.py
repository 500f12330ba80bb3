"""The GitHub Actions workflow passes actionlint (which runs shellcheck over its scripts) and
runs the same scripts as CI here."""

import subprocess
import sys
from pathlib import Path

import yaml

from conftest import PROJECT

WORKFLOWS = sorted((PROJECT / ".github/workflows").glob("*.yml"))


def test_actionlint_passes_on_every_workflow():
    assert WORKFLOWS, "no workflow"
    tools = Path(sys.executable).parent  # actionlint and shellcheck, both from the test extras
    result = subprocess.run(
        [
            str(tools / "actionlint"),
            "-no-color",
            "-shellcheck",
            str(tools / "shellcheck"),
            *map(str, WORKFLOWS),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflow_runs_the_tests_and_the_pipeline_sample_with_the_repos_own_scripts():
    jobs = yaml.safe_load((PROJECT / ".github/workflows/ci.yml").read_text())["jobs"]
    commands = {
        name: "\n".join(step.get("run", "") for step in job["steps"]) for name, job in jobs.items()
    }
    assert "bash .ci/run" in commands["tests"]
    assert "bash .ci/setup" in commands["pipeline"] and ".ci/sample ci-head" in commands["pipeline"]
    for diff in ("dvc params diff ci-base ci-head --md", "dvc metrics diff ci-base ci-head --md"):
        assert diff in commands["pipeline"]
    assert "GITHUB_STEP_SUMMARY" in commands["pipeline"]
    assert "python -m tools.pr_summary ci-base ci-head" in commands["pipeline"]

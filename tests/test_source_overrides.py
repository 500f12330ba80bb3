"""`data.source` given on the command line as the README shows: a path with spaces, and one with
characters DVC's override grammar reserves. An empty one breaks DVC itself, before any stage of
ours runs: the README's troubleshooting names the message DVC prints and the fix."""

import json

import pytest

from conftest import PROJECT, dvc, generator, make_project, update_params

pytestmark = pytest.mark.slow


def ingested(repo) -> int:
    counts = json.loads((repo / "reports/data.json").read_text())
    return sum(n for key, n in counts.items() if key != "test_duplicates_of_train")


def test_data_source_overrides_as_the_readme_gives_them(tmp_path):
    repo = make_project(tmp_path, tarball=False)
    for override, name, reviews in [
        ("data.source={}", "my reviews.csv", 120),
        ("data.source='{}'", "a (1), b.csv", 140),
    ]:
        generator.write_csv(repo / "data/own" / name, reviews, 0)
        dvc("exp", "run", "ingest", "-S", override.format(f"data/own/{name}"), cwd=repo)
        assert ingested(repo) == reviews, name
    unquoted = dvc(
        "exp", "run", "ingest", "-S", "data.source=data/own/a (1), b.csv", cwd=repo, check=False
    )
    assert unquoted.returncode != 0, "the README's quotes around such a value are needed"

    update_params(repo, {"data": {"source": ""}})
    status = dvc("status", cwd=repo, check=False)
    assert status.returncode != 0 and "ERROR: unexpected error" in status.stderr
    troubleshooting = PROJECT.joinpath("README.md").read_text().split("## Troubleshooting")[1]
    assert (
        "**Every `dvc` command says only `ERROR: unexpected error`** (even `dvc status`): `data.source`"
        in troubleshooting
    )

"""Bad input: one clear line naming the file, row or parameter; non-zero exit; nothing half-written.

The contract holds end to end once per kind of failure, with the stage as its own process in a real
project (slow). The variants run the same stage code in-process (``conftest.run_stage``); messages
the readers raise themselves are checked in tests/test_sources.py and tests/test_params.py.
"""

import gzip
import io
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from conftest import (
    PROJECT,
    make_project,
    run,
    run_stage,
    stage_folder,
    update_params,
    write_imdb_tarball,
)

STAGES = list(yaml.safe_load((PROJECT / "dvc.yaml").read_text())["stages"])


def write(path: Path, content: bytes | str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


def tarball_with(root: Path, name: str, members: dict[str, bytes]) -> str:
    """A tarball with the four aclImdb folders (one review each) plus ``members``."""
    path = root / "data/raw" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    base = {
        f"aclImdb/{split}/{polarity}/1_{rating}.txt": b"a fine review"
        for split in ("train", "test")
        for polarity, rating in (("pos", 8), ("neg", 2))
    }
    with tarfile.open(path, "w:gz") as archive:
        for member, data in {**base, **members}.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return str(path)


def folder_without_test_neg(root: Path) -> str:
    folder = root / "data/raw/folder/aclImdb"
    for split in ("train/pos", "train/neg", "test/pos"):
        write(folder / split / "1_8.txt", "a fine review")
    return str(folder.parent)


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def assert_one_line_error(code: int, stderr: str, fragments: list[str]) -> None:
    assert code == 2, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in stderr


CSV_HEADER = "text,label\n"
# Sources whose refusal only ingest can show: the table readers' own messages (missing or empty file,
# missing column, bad label or text at a row, UTF-8, truncated or empty tarball, a split value) are
# tests/test_sources.py's. (case id, source builder, data params, expected fragments of the one line)
DATA_CASES = [
    (
        "one class",
        lambda r: write(r / "data/raw/o.csv", CSV_HEADER + "good,pos\nnice,pos\nfine,1\nok,1\n"),
        {},
        ["o.csv", "negative"],
    ),
    (
        "gzip but not tar",
        lambda r: write(r / "data/raw/x.tar.gz", gzip.compress(b"hello")),
        {},
        ["x.tar.gz"],
    ),
    (
        "renamed column not there",
        lambda r: write(r / "data/raw/n.csv", CSV_HEADER + "good,pos\n"),
        {"text_column": "review"},
        ["n.csv", "'review'", "data.text_column"],
    ),
    (
        "corrupt jsonl",
        lambda r: write(r / "data/raw/j.jsonl", '{"text": "good", "label": 1}\n{"text": "bad", \n'),
        {},
        ["j.jsonl", "jsonl"],
    ),
    (
        "text not a string",
        lambda r: write(
            r / "data/raw/k.jsonl", '{"text": "good", "label": 1}\n{"text": 5, "label": 0}\n'
        ),
        {},
        ["k.jsonl", "row 2", "not a string"],
    ),
    (
        "tarball review over 1 MiB",
        lambda r: tarball_with(r, "big.tar.gz", {"aclImdb/train/pos/3_9.txt": b"a" * (1 << 21)}),
        {},
        ["big.tar.gz", "3_9.txt", "limit"],
    ),
    ("folder without test/neg", folder_without_test_neg, {}, ["folder", "test/neg"]),
]


@pytest.mark.parametrize(
    "case, build, changes, fragments", DATA_CASES, ids=[c[0] for c in DATA_CASES]
)
def test_bad_data_stops_ingest_in_one_line_and_writes_nothing(
    tmp_path, case, build, changes, fragments
):
    folder = stage_folder(tmp_path / "project")
    update_params(folder, {"data": {"source": build(folder), **changes}})
    before = files_under(folder)
    assert_one_line_error(*run_stage("ingest", folder), fragments)
    assert files_under(folder) == before


@pytest.mark.slow
def test_a_bad_row_stops_the_ingest_process_in_one_line_and_writes_nothing(tmp_path):
    repo = make_project(tmp_path, tarball=False)
    source = write(repo / "data/raw/l.csv", CSV_HEADER + "good,pos\nmeh,maybe\n")
    update_params(repo, {"data": {"source": source}})
    before = files_under(repo)
    result = run([sys.executable, "stages/ingest.py"], repo, check=False)
    assert_one_line_error(result.returncode, result.stderr, ["l.csv", "row 3", "'maybe'"])
    assert files_under(repo) == before, "no half-written table, no MLflow store"


def test_duplicates_across_train_and_test_are_a_warning_with_a_count(tmp_path):
    folder = stage_folder(tmp_path / "project")
    rows = "".join(
        f"review number {i} is {'good' if i % 2 else 'bad'},{i % 2},train\n" for i in range(40)
    )
    rows += (
        "review number 1 is good,1,test\nreview number 2 is bad,0,test\n"
        "unseen and fine,1,test\nunseen but bad,0,test\n"
    )
    update_params(
        folder,
        {"data": {"source": write(folder / "data/raw/dup.csv", "text,label,split\n" + rows)}},
    )
    code, stderr = run_stage("ingest", folder)
    assert code == 0, stderr
    assert "warning:" in stderr and " 2 test reviews also appear verbatim in train" in stderr
    assert (folder / "data/interim/reviews.parquet").exists()


PARAM_CASES = [
    ({"model": {"hidden_dim": 0}}, "model.hidden_dim"),
    ({"train": {"lr": -0.001}}, "train.lr"),
    ({"model": {"cell": "transformer"}}, "model.cell"),
    ({"train": {"batch_size": "64"}}, "train.batch_size"),
    ({"data": {"val_fraction": 1.5}}, "data.val_fraction"),
]


@pytest.mark.parametrize("changes, name", PARAM_CASES, ids=[c[1] for c in PARAM_CASES])
def test_every_stage_refuses_an_out_of_range_param_naming_it_before_writing(
    tmp_path, changes, name
):
    folder = stage_folder(tmp_path / "project", changes)
    for stage in STAGES:
        assert_one_line_error(*run_stage(stage, folder), [name])
    assert files_under(folder) == {"params.yaml"}


@pytest.mark.slow
def test_an_out_of_range_param_stops_the_train_process_in_one_line(tmp_path):
    repo = make_project(tmp_path)
    update_params(repo, {"model": {"hidden_dim": 0}})
    before = files_under(repo)
    result = run([sys.executable, "stages/train.py"], repo, check=False)
    assert_one_line_error(result.returncode, result.stderr, ["model.hidden_dim"])
    assert files_under(repo) == before, "no model, no MLflow store"


def test_offline_without_source_points_data_source_at_a_local_copy(tmp_path):
    folder = stage_folder(
        tmp_path / "project", {"data": {"url": "http://127.0.0.1:9/aclImdb_v1.tar.gz"}}
    )
    code, stderr = run_stage("fetch", folder)
    assert_one_line_error(
        code, stderr, ["data/raw/imdb/aclImdb_v1.tar.gz", "point data.source at a local copy"]
    )
    assert "put the" not in stderr, "a copy put into the download folder, a DVC output, can be lost"
    assert not list((folder / "data/raw/imdb").iterdir()), "no partial download left"


def test_a_truncated_memory_map_stops_train_in_one_line_and_writes_nothing(tmp_path):
    folder = stage_folder(tmp_path / "project")
    write_imdb_tarball(folder / "data/raw/imdb/aclImdb_v1.tar.gz", per_folder=20)
    for stage in ("ingest", "prepare_vocab", "encode"):
        code, stderr = run_stage(stage, folder)
        assert code == 0, stderr
    ids = folder / "data/encoded/train_ids.npy"
    ids.write_bytes(ids.read_bytes()[: ids.stat().st_size // 2])
    before = files_under(folder)
    assert_one_line_error(*run_stage("train", folder), ["data/encoded/train_ids.npy", "truncated"])
    assert files_under(folder) == before, "no model, no checkpoint, no MLflow store"

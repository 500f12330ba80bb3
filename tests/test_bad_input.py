"""Bad input: one clear line naming the file, row or parameter; non-zero exit; nothing half-written."""

import gzip
import shutil
import sys
from pathlib import Path

import pytest

from conftest import make_project, run, update_params, write_imdb_tarball

pytestmark = pytest.mark.slow


def write(path: Path, content: bytes | str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


def truncated_tarball(repo: Path) -> str:
    good = write_imdb_tarball(repo / "data/raw/good.tar.gz")
    bad = repo / "data/raw/cut.tar.gz"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return str(bad)


def missing_folder_tarball(repo: Path) -> str:
    import io
    import tarfile

    path = repo / "data/raw/partial.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for folder in ("train/pos", "train/neg", "test/pos"):
            data = b"a fine review"
            info = tarfile.TarInfo(f"aclImdb/{folder}/1_8.txt")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return str(path)


def tarball_with(repo: Path, name: str, members: dict[str, bytes]) -> str:
    """A tarball with the four aclImdb folders (one review each) plus ``members``."""
    import io
    import tarfile

    path = repo / "data/raw" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    base = {f"aclImdb/{split}/{polarity}/1_{rating}.txt": b"a fine review"
            for split in ("train", "test") for polarity, rating in (("pos", 8), ("neg", 2))}
    with tarfile.open(path, "w:gz") as archive:
        for member, data in {**base, **members}.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return str(path)


def folder_without_test_neg(repo: Path) -> str:
    root = repo / "data/raw/folder/aclImdb"
    for folder in ("train/pos", "train/neg", "test/pos"):
        write(root / folder / "1_8.txt", "a fine review")
    return str(root.parent)


CSV_HEADER = "text,label\n"
SPLIT_HEADER = "text,label,split\n"
# (case id, source builder, params, expected fragments of the one error line)
DATA_CASES = [
    ("missing file", lambda r: "data/raw/nope.csv", {}, ["nope.csv", "does not exist"]),
    ("empty csv", lambda r: write(r / "data/raw/e.csv", ""), {}, ["e.csv", "empty"]),
    ("header only", lambda r: write(r / "data/raw/h.csv", CSV_HEADER), {}, ["h.csv", "no rows"]),
    ("missing column", lambda r: write(r / "data/raw/c.csv", "review,label\nnice,pos\n"), {}, ["c.csv", "'text'"]),
    ("empty text", lambda r: write(r / "data/raw/t.csv", CSV_HEADER + "good,pos\n,neg\n"), {}, ["t.csv", "row 3", "empty text"]),
    ("blank text", lambda r: write(r / "data/raw/b.csv", CSV_HEADER + "good,pos\n   ,neg\n"), {}, ["b.csv", "row 3"]),
    ("bad label", lambda r: write(r / "data/raw/l.csv", CSV_HEADER + "good,pos\nmeh,maybe\n"), {}, ["l.csv", "row 3", "'maybe'"]),
    ("one class", lambda r: write(r / "data/raw/o.csv", CSV_HEADER + "good,pos\nnice,pos\nfine,1\nok,1\n"), {}, ["o.csv", "negative"]),
    ("not utf-8", lambda r: write(r / "data/raw/u.csv", b"text,label\ncaf\xe9 ok,pos\nbad,neg\n"), {}, ["u.csv", "UTF-8"]),
    ("truncated tarball", truncated_tarball, {}, ["cut.tar.gz", "corrupt or truncated"]),
    ("tarball without folders", missing_folder_tarball, {}, ["partial.tar.gz", "test/neg"]),
    ("gzip but not tar", lambda r: write(r / "data/raw/x.tar.gz", gzip.compress(b"hello")), {}, ["x.tar.gz"]),
    ("missing label column", lambda r: write(r / "data/raw/m.csv", "text,stars\nnice,5\n"), {}, ["m.csv", "'label'"]),
    ("renamed column not there", lambda r: write(r / "data/raw/n.csv", CSV_HEADER + "good,pos\n"),
     {"text_column": "review"}, ["n.csv", "'review'", "data.text_column"]),
    ("bad split value", lambda r: write(r / "data/raw/s.csv", SPLIT_HEADER + "good,pos,train\nbad,neg,dev\n"), {},
     ["s.csv", "row 3", "'dev'"]),
    ("class absent from train", lambda r: write(r / "data/raw/a.csv", SPLIT_HEADER + "good,pos,train\nnice,pos,train\n"
                                                "great,pos,test\nbad,neg,test\n"), {}, ["train", "negative"]),
    ("corrupt jsonl", lambda r: write(r / "data/raw/j.jsonl", '{"text": "good", "label": 1}\n{"text": "bad", \n'), {},
     ["j.jsonl", "jsonl"]),
    ("text not a string", lambda r: write(r / "data/raw/k.jsonl", '{"text": "good", "label": 1}\n{"text": 5, "label": 0}\n'),
     {}, ["k.jsonl", "row 2", "not a string"]),
    ("unknown file type", lambda r: write(r / "data/raw/reviews.xml", "<reviews/>"), {}, ["reviews.xml", ".csv"]),
    ("empty tarball", lambda r: write(r / "data/raw/z.tar.gz", b""), {}, ["z.tar.gz", "empty"]),
    ("tarball review not utf-8", lambda r: tarball_with(r, "u8.tar.gz", {"aclImdb/train/pos/2_9.txt": b"caf\xe9"}), {},
     ["u8.tar.gz", "train/pos/2_9.txt", "UTF-8"]),
    ("tarball review over 1 MiB", lambda r: tarball_with(r, "big.tar.gz", {"aclImdb/train/pos/3_9.txt": b"a" * (1 << 21)}),
     {}, ["big.tar.gz", "3_9.txt", "limit"]),
    ("folder without test/neg", folder_without_test_neg, {}, ["folder", "test/neg"]),
]


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("bad"), tarball=False)


def assert_one_line_error(result, fragments: list[str]) -> None:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("case, build, changes, fragments", DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_bad_data_is_one_line_and_writes_nothing(repo, case, build, changes, fragments):
    source = build(repo)
    update_params(repo, {"data": {"source": source, "url": "", **changes}})
    try:
        result = run([sys.executable, "stages/ingest.py"], repo, check=False)
    finally:
        run(["git", "checkout", "params.yaml"], repo)
    assert_one_line_error(result, fragments)
    assert not (repo / "data/interim").exists() or not any((repo / "data/interim").iterdir())
    assert not (repo / "mlflow.db").exists() and not (repo / "mlruns").exists()


def test_duplicates_across_train_and_test_are_a_warning_with_a_count(repo):
    rows = "".join(f"review number {i} is {'good' if i % 2 else 'bad'},{i % 2},train\n" for i in range(40))
    rows += "review number 1 is good,1,test\nreview number 2 is bad,0,test\nunseen and fine,1,test\nunseen but bad,0,test\n"
    source = write(repo / "data/raw/dup.csv", SPLIT_HEADER + rows)
    update_params(repo, {"data": {"source": source, "url": ""}})
    try:
        result = run([sys.executable, "stages/ingest.py"], repo, check=False)
        assert result.returncode == 0, result.stderr
        assert "warning:" in result.stderr and " 2 test reviews also appear verbatim in train" in result.stderr
    finally:
        run(["git", "checkout", "params.yaml"], repo)
        for made in ("data/interim", "reports"):
            shutil.rmtree(repo / made, ignore_errors=True)


PARAM_CASES = [
    ({"model": {"hidden_dim": 0}}, "model.hidden_dim"),
    ({"train": {"lr": -0.001}}, "train.lr"),
    ({"model": {"cell": "transformer"}}, "model.cell"),
    ({"train": {"batch_size": "64"}}, "train.batch_size"),
    ({"data": {"val_fraction": 1.5}}, "data.val_fraction"),
]


@pytest.mark.parametrize("changes, name", PARAM_CASES, ids=[c[1] for c in PARAM_CASES])
def test_out_of_range_param_names_the_parameter(repo, changes, name):
    update_params(repo, changes)
    try:
        for stage in ("ingest", "train"):
            result = run([sys.executable, f"stages/{stage}.py"], repo, check=False)
            assert_one_line_error(result, [name])
    finally:
        run(["git", "checkout", "params.yaml"], repo)
    assert not (repo / "models/model.pt").exists()
    assert not (repo / "mlflow.db").exists() and not (repo / "mlruns").exists()


def test_offline_without_source_points_data_source_at_a_local_copy(repo):
    update_params(repo, {"data": {"url": "http://127.0.0.1:9/aclImdb_v1.tar.gz"}})
    try:
        result = run([sys.executable, "stages/fetch.py"], repo, check=False)
    finally:
        run(["git", "checkout", "params.yaml"], repo)
    assert_one_line_error(result, ["data/raw/imdb/aclImdb_v1.tar.gz", "point data.source at a local copy"])
    assert "put the" not in result.stderr, "a copy put into the download folder, a DVC output, can be lost"
    assert not list((repo / "data/raw/imdb").iterdir()), "no partial download left"


def test_a_truncated_memory_map_stops_train_in_one_line_and_writes_nothing(tmp_path):
    repo = make_project(tmp_path)
    for stage in ("ingest", "prepare_vocab", "encode"):
        run([sys.executable, f"stages/{stage}.py"], repo)
    ids = repo / "data/encoded/train_ids.npy"
    ids.write_bytes(ids.read_bytes()[: ids.stat().st_size // 2])
    result = run([sys.executable, "stages/train.py"], repo, check=False)
    assert_one_line_error(result, ["data/encoded/train_ids.npy", "truncated"])
    assert not (repo / "models/model.pt").exists() and not (repo / "models/checkpoint.pt").exists()
    assert not (repo / "mlflow.db").exists() and not (repo / "mlruns").exists()

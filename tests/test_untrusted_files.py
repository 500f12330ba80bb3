"""Untrusted files: archives built to escape their folder, pickles built to run code.

Each malicious archive is refused as a whole by the reader and by the real ingest stage, and
nothing appears outside the project. Each planted pickle is refused where a checkpoint, a model
bundle or an encoded array is loaded, and its payload never runs.
"""

import io
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import run, run_stage, stage_folder, update_params
from helpers import read_source, save_split
from rnn_sentiment.core import params
from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.data import sources
from rnn_sentiment.model.predictor import Predictor
from rnn_sentiment.model.torch_files import load as load_checkpoint
from rnn_sentiment.text import encoding

DATA = params.load(Path(__file__).resolve().parents[1] / "params.yaml").data
GOOD = {
    f"aclImdb/{split}/{polarity}/1_{rating}.txt": b"a fine review"
    for split in ("train", "test")
    for polarity, rating in (("pos", 8), ("neg", 2))
}


def archive(path: Path, extra: list[tarfile.TarInfo]) -> Path:
    """A valid aclImdb tarball with ``extra`` members appended."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in GOOD.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            payload = b"pwned" if info.isreg() else None
            if payload is not None:
                info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return path


def member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


MALICIOUS = [
    ("absolute path", member("/tmp/rnn-sentiment-escape/abs.txt"), "absolute path"),
    ("dot-dot", member("aclImdb/train/pos/../../../../escape.txt"), "'..'"),
    ("dot-dot review name", member("../aclImdb/train/pos/9_9.txt"), "'..'"),
    (
        "symlink out",
        member("aclImdb/train/pos/link", tarfile.SYMTYPE, "../../../../etc/passwd"),
        "outside",
    ),
    ("absolute symlink", member("aclImdb/evil", tarfile.SYMTYPE, "/etc"), "outside"),
    ("hard link out", member("aclImdb/hard", tarfile.LNKTYPE, "../outside.txt"), "outside"),
    ("character device", member("aclImdb/null", tarfile.CHRTYPE), "device"),
    ("block device", member("aclImdb/disk", tarfile.BLKTYPE), "device"),
    ("fifo", member("aclImdb/pipe", tarfile.FIFOTYPE), "FIFO"),
    ("windows drive", member("C:/escape.txt"), "absolute path"),
]


@pytest.mark.parametrize("case, info, reason", MALICIOUS, ids=[c[0] for c in MALICIOUS])
def test_a_malicious_member_refuses_the_whole_archive(tmp_path, case, info, reason):
    path = archive(tmp_path / "evil.tar.gz", [info])
    with pytest.raises(PipelineError) as caught:
        read_source(path, DATA)
    message = str(caught.value)
    assert "unsafe archive member" in message and info.name in message and reason in message
    assert "\n" not in message


def test_links_that_stay_inside_are_not_refused(tmp_path):
    path = archive(
        tmp_path / "ok.tar.gz",
        [
            member("aclImdb/README.lnk", tarfile.SYMTYPE, "train/pos/1_8.txt"),
            member("aclImdb/copy", tarfile.LNKTYPE, "aclImdb/train/pos/1_8.txt"),
        ],
    )
    assert len(read_source(path, DATA)) == 4, (
        "links are never followed: only the four regular reviews"
    )


def test_total_unpacked_size_is_bounded(tmp_path, monkeypatch):
    path = archive(tmp_path / "bomb.tar.gz", [])
    monkeypatch.setattr(sources, "MAX_ARCHIVE_BYTES", 30)  # the four 13-byte reviews cross it
    with pytest.raises(PipelineError, match="unpack to over 30 bytes"):
        read_source(path, DATA)


def test_ingest_refuses_each_malicious_archive_and_writes_nothing_anywhere(tmp_path):
    repo = stage_folder(tmp_path / "project")
    outside = tmp_path / "outside"
    outside.mkdir()
    escape = Path("/tmp/rnn-sentiment-escape")
    for number, (case, info, reason) in enumerate(MALICIOUS):
        source = archive(repo / f"data/raw/evil{number}.tar.gz", [info])
        update_params(repo, {"data": {"source": str(source.relative_to(repo))}})
        code, stderr = run_stage("ingest", repo)
        lines = stderr.strip().splitlines()
        assert code == 2 and len(lines) == 1 and reason in lines[0], (case, stderr)
    assert not (repo / "data/interim").exists()
    assert (
        list(outside.iterdir()) == []
        and not escape.exists()
        and not (tmp_path / "escape.txt").exists()
    )


class Payload:
    """Unpickling this calls Path.touch on a marker file: code execution, visible on disk."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (self.marker,)


def plant(path: Path, marker: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # torch.save pickles it
    torch.save({"format": "rnn-sentiment/1", "model": Payload(marker)}, path)
    return path


def test_a_planted_pickle_checkpoint_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "payload-ran"
    path = plant(tmp_path / "checkpoint.pt", marker)
    with pytest.raises(PipelineError, match="not a checkpoint of this project; refused to load it"):
        load_checkpoint(path)
    with pytest.raises(PipelineError, match="refused"):
        Predictor.load(path)
    assert not marker.exists()
    torch.load(path, weights_only=False)  # the unsafe load *would* run it: the test's control
    assert marker.exists()


def test_predict_refuses_a_planted_model_in_one_line(tmp_path):
    marker = tmp_path / "payload-ran"
    model = plant(tmp_path / "model.pt", marker)
    result = run(
        [sys.executable, "-m", "rnn_sentiment.serving.predict", "--model", str(model), "fine"],
        tmp_path,
        check=False,
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "refused" in result.stderr
    assert not marker.exists()


def test_predict_given_a_folder_as_its_model_says_so_in_one_line(tmp_path):
    result = run(
        [sys.executable, "-m", "rnn_sentiment.serving.predict", "--model", str(tmp_path), "fine"],
        tmp_path,
        check=False,
    )
    assert (
        result.returncode == 2
        and result.stderr.strip() == f"error: {tmp_path}: is a folder, not a model file"
    )


def test_resume_refuses_a_planted_checkpoint(tmp_path):
    from rnn_sentiment.core import params
    from rnn_sentiment.model.network import SentimentClassifier
    from rnn_sentiment.training import loop as training

    marker = tmp_path / "payload-ran"
    config = params.load()
    checkpoint = plant(tmp_path / "checkpoint.pt", marker)
    trainer = training.Trainer(
        SentimentClassifier(10, 0, config.model), config.train, 0, torch.device("cpu")
    )
    with pytest.raises(PipelineError, match="refused"):
        trainer.resume(checkpoint, "any")
    assert not marker.exists()


def test_encoded_arrays_holding_pickled_objects_are_refused(tmp_path):
    out = tmp_path / "encoded"
    out.mkdir()
    split = encoding.EncodedSplit(
        np.zeros((2, 3), np.int32), np.ones(2, np.int32), np.zeros(2, np.int8)
    )
    save_split(split, out, "train")
    np.save(
        out / "train_ids.npy",
        np.array([Payload(tmp_path / "payload-ran")], dtype=object),
        allow_pickle=True,
    )
    with pytest.raises(PipelineError, match="train_ids.npy"):
        encoding.load(out, "train")
    assert not (tmp_path / "payload-ran").exists()

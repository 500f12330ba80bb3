"""Text written without spaces between words (Chinese, Japanese, Thai) is cut into one token per
character and learned; data the tokenizer still cannot cut (a text column holding ids) stops
prepare_vocab in one line; a run that learned nothing says so."""

import csv
import importlib.util
import json
import random
import re
import shutil
import sqlite3
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import (
    PROJECT,
    SMALL_PARAMS,
    dvc,
    make_project,
    run_stage,
    stage_folder,
    update_params,
)
from helpers import tokenize
from rnn_sentiment.core import cli, params
from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.model.batching import Batcher
from rnn_sentiment.model.network import SentimentClassifier
from rnn_sentiment.model.predictor import Predictor
from rnn_sentiment.text import learnability, tokenizer, vocab
from rnn_sentiment.text.encoding import EncodedSplit
from rnn_sentiment.text.tokenizer import tokenize_series
from rnn_sentiment.tracking import training_log
from rnn_sentiment.training import loop

POSITIVE = ["很好看", "非常精彩", "我很喜欢", "值得一看", "太感人了"]
NEGATIVE = ["太难看了", "很无聊", "浪费时间", "不值得看", "剧情太烂了"]
FILLER = [
    "这部电影",
    "故事",
    "导演",
    "音乐",
    "我觉得",
    "演员",
    "画面",
    "结局",
    "昨天看了",
    "和朋友一起",
]


def chinese_review(rng: random.Random, positive: bool) -> str:
    """Filler and one or two phrases of the class, joined without spaces as Chinese is written."""
    phrases = [rng.choice(FILLER) for _ in range(rng.randint(2, 4))]
    for _ in range(rng.randint(1, 2)):
        phrases.insert(
            rng.randrange(len(phrases) + 1), rng.choice(POSITIVE if positive else NEGATIVE)
        )
    return "".join(phrases) + rng.choice(["", "！", "。"])


def write_table(path: Path, texts: list[str], labels: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, labels, strict=True))


def write_chinese_csv(path: Path, reviews: int, seed: int) -> None:
    rng = random.Random(seed)
    labels = ["pos" if number % 2 == 0 else "neg" for number in range(reviews)]
    write_table(path, [chinese_review(rng, label == "pos") for label in labels], labels)


def load_stage(name: str):
    spec = importlib.util.spec_from_file_location(
        f"stage_{name}", PROJECT / "stages" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mlflow_tags(repo: Path, run_id: str) -> dict[str, str]:
    with sqlite3.connect(repo / "mlflow.db") as db:
        return dict(
            db.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (run_id,)).fetchall()
        )


@pytest.mark.slow
def test_chinese_reviews_without_spaces_are_learned(tmp_path):
    repo = make_project(tmp_path, {"data": {"source": "data/own/chinese.csv"}}, tarball=False)
    write_chinese_csv(repo / "data/own/chinese.csv", 300, seed=0)
    result = dvc("repro", cwd=repo)

    vocabulary = json.loads((repo / "reports/vocab.json").read_text())
    # characters pair into n-grams; whole reviews would not
    assert vocabulary["ngrams_kept"] > 100, vocabulary
    accuracy = json.loads((repo / "metrics.json").read_text())["accuracy"]
    assert accuracy >= 0.8, f"test accuracy {accuracy} on 300 Chinese reviews: chance is 0.5"
    predictor = Predictor.load(repo / "models/model.pt")
    negative, positive = predictor.predict_proba(
        ["这部电影太难看了浪费时间", "这部电影非常精彩我很喜欢"]
    )
    assert negative < 0.5 < positive, (negative, positive)

    run_id = json.loads((repo / "reports/train.json").read_text())["mlflow_run_id"]
    assert "warning.chance_level" not in mlflow_tags(repo, run_id)
    assert "chance level" not in result.stdout + result.stderr


# --- the tokenizer ----------------------------------------------------------------------------


def test_chinese_is_one_token_per_character_and_punctuation_stays_apart():
    assert tokenize("这部电影太难看了！") == ["这", "部", "电", "影", "太", "难", "看", "了", "！"]


def test_japanese_hiragana_katakana_and_kanji_are_one_token_per_character():
    assert tokenize("東京タワーは、すごい") == [
        "東",
        "京",
        "タ",
        "ワ",
        "ー",
        "は",
        "、",
        "す",
        "ご",
        "い",
    ]
    assert tokenize("ｶﾀｶﾅ") == ["ｶ", "ﾀ", "ｶ", "ﾅ"]  # half-width katakana
    assert tokenize("か\u3099") == ["か\u3099"]  # a combining voiced mark stays on its letter


def test_thai_is_one_token_per_letter_with_its_marks():
    assert tokenize("หนังดีมาก") == ["ห", "นั", "ง", "ดี", "ม", "า", "ก"]


def test_han_beyond_the_basic_block_is_cut_too():
    assert tokenize("\u3400\U00020000\uf900") == ["\u3400", "\U00020000", "\uf900"]


def test_words_beside_unspaced_text_keep_their_tokens():
    assert tokenize("I LOVED 映画s, don\u2019t you? 10/10") == [
        "i",
        "loved",
        "映",
        "画",
        "s",
        ",",
        "don\u2019t",
        "you",
        "?",
        "10",
        "/",
        "10",
    ]
    assert tokenize("Café 最高 naïve") == ["café", "最", "高", "naïve"]


# what the tokenizer found before it cut scripts
PREVIOUS_TOKEN = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*|[^\w\s]|_")
UNSPACED = re.compile(f"[{tokenizer.UNSPACED}]")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=60), min_size=1, max_size=5))
def test_text_without_unspaced_letters_has_exactly_the_tokens_it_had(texts):
    texts = [UNSPACED.sub("", text) for text in texts]
    lowered = (
        pd.Series(texts, dtype="str").str.lower().str.replace(tokenizer.MARKUP, " ", regex=True)
    )
    assert [list(t) for t in tokenize_series(pd.Series(texts, dtype="str"))] == [
        PREVIOUS_TOKEN.findall(text) for text in lowered
    ]


@pytest.mark.parametrize("dtype", [object, "str"])
def test_columns_and_single_texts_cut_unspaced_scripts_alike(dtype):
    texts = ["很好看", "東京タワー、すごい！", "ภาษาไทย", "mixed 中文 text", ""]
    for text, tokens in zip(texts, tokenize_series(pd.Series(texts, dtype=dtype)), strict=True):
        assert list(tokens) == tokenize(text)


# --- the guard: nothing to learn stops prepare_vocab ------------------------------------------


def counts_of(texts: list[str]) -> pd.Series:
    return vocab.count([tokenize_series(pd.Series(texts, dtype="str"))])


def test_a_column_of_ids_is_refused_with_the_thresholds_and_the_fixes():
    with pytest.raises(PipelineError) as caught:
        learnability.check(
            counts_of([str(9_000_000 + n * 7) for n in range(200)]), "data/own/r.csv", "id"
        )
    message = str(caught.value)
    assert "\n" not in message and message.startswith(
        "data/own/r.csv: nothing to learn from: 0 distinct tokens"
    )
    for fragment in (
        f"at least {learnability.MIN_RECURRING_TOKENS} and {learnability.MIN_RECURRING_SHARE:.0%}",
        "data.text_column ('id')",
        "written with spaces",
        "Chinese, Japanese or Thai",
    ):
        assert fragment in message, fragment


def test_reviews_that_share_only_punctuation_are_refused():
    # one unknown run and a "!" each
    texts = [f"{'abcdefgh'[n % 8]}{n}x{n * 31}!" for n in range(300)]
    with pytest.raises(PipelineError, match="1 distinct tokens occur more than once"):
        learnability.check(counts_of(texts), "s.csv", "text")


def test_chinese_reviews_are_accepted_once_cut_into_characters():
    rng = random.Random(0)
    learnability.check(
        counts_of([chinese_review(rng, n % 2 == 0) for n in range(40)]), "zh.csv", "text"
    )


@pytest.fixture
def own_csv_project(tmp_path, monkeypatch) -> Path:
    """A folder with params.yaml (the tests' small settings, data.source a CSV) as the stages run in."""
    shutil.copy(PROJECT / "params.yaml", tmp_path / "params.yaml")
    update_params(tmp_path, SMALL_PARAMS)
    update_params(tmp_path, {"data": {"source": "data/own/reviews.csv", "text_column": "id"}})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_prepare_vocab_on_a_column_of_ids_stops_in_one_line_and_writes_nothing(
    own_csv_project, capsys
):
    rng = random.Random(0)
    labels = ["pos" if n % 2 == 0 else "neg" for n in range(200)]
    path = own_csv_project / "data/own/reviews.csv"
    path.parent.mkdir(parents=True)
    pd.DataFrame({"id": [str(rng.randrange(10**9)) for _ in labels], "label": labels}).to_csv(
        path, index=False
    )
    load_stage("ingest").main()
    capsys.readouterr()

    with pytest.raises(SystemExit) as exited:
        cli.run(load_stage("prepare_vocab").main)
    assert exited.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: data/own/reviews.csv: nothing to learn from"
    ), lines
    assert "data.text_column ('id')" in lines[0]
    assert (
        not (own_csv_project / "data/vocab").exists()
        and not (own_csv_project / "reports/vocab.json").exists()
    )


def test_prepare_vocab_on_chinese_reviews_keeps_characters_and_their_ngrams(own_csv_project):
    update_params(own_csv_project, {"data": {"text_column": "text"}})
    write_chinese_csv(own_csv_project / "data/own/reviews.csv", 200, seed=0)
    load_stage("ingest").main()
    load_stage("prepare_vocab").main()
    tokens = vocab.read(own_csv_project / "data/vocab/vocab.tsv")[len(vocab.SPECIALS) :]
    assert len(tokens) >= 30 and all(len(token) == 1 for token in tokens), list(tokens)
    table = pd.read_csv(own_csv_project / "data/vocab/ngrams.tsv", sep="\t")
    ngrams = set(table["ngram"])
    assert {"难 看", "无 聊", "精 彩", "很 好 看"} <= ngrams
    boring = table.set_index("ngram").loc["无 聊"]
    assert boring["negative"] > 0 and boring["positive"] == 0


# --- a run that learned nothing says so -------------------------------------------------------


@pytest.fixture
def config():
    base = params.load(PROJECT / "params.yaml")
    return base.model_copy(
        update={
            "model": base.model.model_copy(update={"embed_dim": 8, "hidden_dim": 8}),
            "train": base.train.model_copy(
                update={"epochs": 2, "batch_size": 8, "patience": 5, "lr": 0.01, "ema_decay": 0.0}
            ),
        }
    )


def split(rows: int, seed: int, signal: bool) -> EncodedSplit:
    """Reviews of tokens 2..9; with ``signal`` a positive review also holds token 10, else every review is the same."""
    rng = np.random.default_rng(seed)
    labels = (np.arange(rows) % 2).astype(np.int8)
    ids = np.tile(np.arange(2, 10, dtype=np.int32), (rows, 1))
    if signal:
        ids[labels == 1, rng.integers(0, 8)] = 10
    return EncodedSplit(ids, np.full(rows, 8, dtype=np.int32), labels)


@pytest.mark.parametrize(
    "signal", [False, True], ids=["same text for both classes", "a word for positive"]
)
def test_a_run_whose_best_epoch_scores_at_chance_gets_a_warning(config, signal):
    torch.manual_seed(config.seed)
    trainer = loop.Trainer(
        SentimentClassifier(12, 0, config.model), config.train, config.seed, torch.device("cpu")
    )
    state = trainer.fit(
        Batcher(split(64, 0, signal)),
        split(32, 1, signal),
        loop.TrainState("fp", "run"),
        on_epoch=lambda result, state: None,
    )
    warning = loop.chance_warning(state)
    if signal:
        assert state.best_val_roc_auc > loop.CHANCE_ROC_AUC and warning == ""
    else:
        assert state.best_val_roc_auc == 0.5
        assert warning.startswith(
            "the best validation ROC AUC, 0.5000 at epoch 1, is at chance level (<= 0.55)"
        )
        assert "data.text_column" in warning


def test_a_warning_is_one_line_on_stderr_and_a_tag_of_the_run(tmp_path, capsys):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    with mlflow.start_run() as run:
        capsys.readouterr()  # MLflow's own lines on creating the store
        training_log.warn("chance_level", "the model predicts no better than a guess")
    assert capsys.readouterr().err == "warning: the model predicts no better than a guess\n"
    tags = mlflow.get_run(run.info.run_id).data.tags
    assert tags["warning.chance_level"] == "the model predicts no better than a guess"


@pytest.mark.slow
def test_the_train_stage_warns_when_its_model_learned_nothing(tmp_path):
    """Every review the same text, half of them positive: the stages run in-process to the end, and
    the train stage says in one line on stderr, and in a tag of its run, that the model guesses."""
    folder = stage_folder(tmp_path / "project", {"data": {"source": "own.csv"}})
    labels = ["pos", "neg"] * 100
    write_table(
        folder / "own.csv",
        ["a film with a plot, some actors, two songs, one score and a long ending"] * 200,
        labels,
    )
    for stage in ("ingest", "prepare_vocab", "encode"):
        assert run_stage(stage, folder)[0] == 0, stage

    code, stderr = run_stage("train", folder)

    assert code == 0, stderr
    [line] = [line for line in stderr.splitlines() if "chance level" in line]
    assert line.startswith("warning: the best validation ROC AUC, 0.5000 at epoch 1"), line
    run_id = json.loads((folder / "reports/train.json").read_text())["mlflow_run_id"]
    assert mlflow_tags(folder, run_id)["warning.chance_level"] == line.removeprefix("warning: ")

"""Artifact locations, relative to the project root; dvc.yaml declares the same paths."""

from pathlib import Path

PARAMS = Path("params.yaml")

DOWNLOAD = Path("data/raw/imdb/aclImdb_v1.tar.gz")  # the only file any stage writes under data/raw/

REVIEWS = Path("data/interim/reviews.parquet")
VOCAB = Path("data/vocab/vocab.tsv")
NGRAMS = Path("data/vocab/ngrams.tsv")
ENCODED = Path("data/encoded")

MODEL = Path("models/model.pt")
CHECKPOINT = Path("models/checkpoint.pt")
RUN_INFO = Path("models/mlflow_run.json")

REPORTS = Path("reports")
DATA_STATS = REPORTS / "data.json"
VOCAB_STATS = REPORTS / "vocab.json"
ENCODE_STATS = REPORTS / "encode.json"
TRAIN_STATS = REPORTS / "train.json"
HISTORY = REPORTS / "plots/history.csv"
CONFUSION = REPORTS / "plots/confusion.csv"
ROC = REPORTS / "plots/roc.csv"
PRECISION_RECALL = REPORTS / "plots/precision_recall.csv"
MISCLASSIFIED = REPORTS / "misclassified.csv"
PREDICTIONS = REPORTS / "predictions.csv"
BEHAVIOUR = REPORTS / "behaviour.csv"
MODEL_CARD = REPORTS / "model_card.md"
METRICS = Path("metrics.json")

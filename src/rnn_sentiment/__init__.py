"""Reproducible RNN / GRU / LSTM sentiment classifiers: the library behind the DVC stages."""

__version__ = "0.1.0"

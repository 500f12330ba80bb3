"""Reproducible RNN / GRU / LSTM sentiment classifiers: the library behind the DVC stages.

Subpackages, each importing only those listed before it (tests/test_layout.py checks this):
``core`` <- ``data``, ``evaluation`` <- ``model`` <- ``tracking`` <- ``training``, ``serving``.
"""

__version__ = "0.1.0"

from rnn_sentiment.core.workspace_lock import hold_while_a_stage_runs  # noqa: E402

hold_while_a_stage_runs()  # a second `dvc exp run` here would lose this one's experiment

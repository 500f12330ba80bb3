"""Reproducible RNN / GRU / LSTM sentiment classifiers: the library behind the DVC stages.

Subpackages, each importing only those listed before it (tests/test_layout.py checks this):
``core`` <- ``data``, ``evaluation`` <- ``model`` <- ``tracking`` <- ``training``, ``serving``.
"""

__version__ = "0.1.0"

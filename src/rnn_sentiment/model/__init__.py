"""The network, its batches, its files on disk and raw-text prediction: everything torch."""

"""The prediction command line; no stage runs it, so changing it reruns nothing."""

"""MLflow: the store and run tags, the logged models (and the served one's code), the registry."""

"""Raw sources to the reviews table: fetch, read, check and split. Never imports torch."""

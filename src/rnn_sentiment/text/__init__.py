"""Text to numbers: the tokenizer, the vocabulary and the encoded id arrays. Never imports torch."""

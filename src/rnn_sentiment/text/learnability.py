"""Whether the training split's tokens can teach a model anything, checked before prepare_vocab
writes: a token seen once can get a weight but never help with another review, so text the
tokenizer cannot cut (a column of ids, a script written without spaces that it does not split),
where nearly every review is one token of its own, would train a constant model."""

import pandas as pd

from rnn_sentiment.core.errors import PipelineError

# Distinct tokens seen more than once: the 48 generated reviews of the tests have ~40, any real
# text hundreds; ids have none, and a review the tokenizer cannot cut shares only its punctuation.
MIN_RECURRING_TOKENS = 10
# Their share of all training tokens: 0.99 on IMDB, above 0.5 even in a handful of reviews.
MIN_RECURRING_SHARE = 0.2


def check(counts: pd.Series, source: str, text_column: str) -> None:
    """Refuse ``counts`` (token -> occurrences in the training split) that hold too little to learn from."""
    total = int(counts.sum())
    recurring = counts[counts > 1]
    share = int(recurring.sum()) / total if total else 0.0
    if len(recurring) >= MIN_RECURRING_TOKENS and share >= MIN_RECURRING_SHARE:
        return
    raise PipelineError(
        f"{source}: nothing to learn from: {len(recurring)} distinct tokens occur more than once in the training "
        f"split, {share:.1%} of its {total} tokens (at least {MIN_RECURRING_TOKENS} and {MIN_RECURRING_SHARE:.0%} "
        f"are needed); check that data.text_column ({text_column!r}) holds the review text, not ids, and that the "
        f"text is in a language written with spaces between words, or in Chinese, Japanese or Thai"
    )

"""The learning rate of every optimizer step, a pure function of the step: a run resumed at any
epoch sets exactly the rates of an uninterrupted one, with no scheduler state to checkpoint."""

import math

WARMUP_SHARE = 0.1  # one_cycle: share of the steps spent rising to the peak
START_DIVISOR = 25.0  # one_cycle starts at lr / 25 and anneals to about 0, as torch's OneCycleLR


def learning_rate(peak: float, schedule: str, step: int, total: int) -> float:
    """The rate of ``step`` (0-based) of ``total``: ``constant`` keeps ``peak``; ``one_cycle``
    rises linearly from peak / START_DIVISOR to ``peak`` over the first WARMUP_SHARE of the steps,
    then falls along a cosine to 0 at the last step."""
    if schedule == "constant":
        return peak
    warmup = max(1, round(total * WARMUP_SHARE))
    if step < warmup:
        start = peak / START_DIVISOR
        return start + (peak - start) * step / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))

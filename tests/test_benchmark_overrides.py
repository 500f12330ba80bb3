"""The benchmarks' ``--set section.key=value`` overrides: set as `dvc exp run -S` does, refused in one line."""

from pathlib import Path

import pytest

from benchmarks.param_overrides import load_with_overrides
from rnn_sentiment.core.errors import PipelineError

PARAMS_YAML = Path(__file__).resolve().parents[1] / "params.yaml"


def test_overrides_set_section_keys_and_top_level_keys_as_dvc_exp_run_s_does():
    config = load_with_overrides(["seed=7", "train.epochs=1", "model.cell=lstm"], PARAMS_YAML)
    assert (config.seed, config.train.epochs, config.model.cell) == (7, 1, "lstm")


@pytest.mark.parametrize(
    "override, named",
    [
        ("nosuch.key=1", "no section 'nosuch'"),
        ("train.epochs", "expected section.key=value"),
        ("=3", "expected section.key=value"),
        ("model.hiden_dim=3", "model.hiden_dim: Extra inputs are not permitted"),
        ("seeds=3", "seeds: Extra inputs are not permitted"),
        ("train.epochs=0", "train.epochs: Input should be greater than or equal to 1, got 0"),
    ],
)
def test_a_bad_override_is_one_line_naming_it(override, named):
    with pytest.raises(PipelineError) as caught:
        load_with_overrides([override], PARAMS_YAML)
    assert named in str(caught.value) and "\n" not in str(caught.value)

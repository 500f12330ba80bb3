"""Entry-point wrapper shared by every stage script and console command."""

import sys
from collections.abc import Callable

from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.core.workspace_lock import hold_while_a_stage_runs

EXIT_BAD_INPUT = 2


def run(main: Callable[[], None]) -> None:
    """Run ``main``; a PipelineError becomes one line on stderr and a non-zero exit."""
    hold_while_a_stage_runs()  # a second `dvc exp run` here would lose this one's experiment
    try:
        main()
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)

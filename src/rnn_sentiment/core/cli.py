"""Entry-point wrapper shared by every stage script and console command."""

import sys
from typing import Callable

from rnn_sentiment.core.errors import PipelineError

EXIT_BAD_INPUT = 2


def run(main: Callable[[], None]) -> None:
    """Run ``main``; a PipelineError becomes one line on stderr and a non-zero exit."""
    try:
        main()
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)

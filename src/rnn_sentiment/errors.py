"""The one exception type that a user should see as a single line instead of a traceback."""


class PipelineError(Exception):
    """Bad input, bad parameters or an unreachable service: reported as one line, exit code 2."""

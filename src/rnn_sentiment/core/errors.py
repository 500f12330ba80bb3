"""The one exception type that a user should see as a single line instead of a traceback."""


class PipelineError(Exception):
    """Bad input, bad parameters or an unreachable service: reported as one line, exit code 2."""


def first_line(error: BaseException, limit: int | None = 300) -> str:
    """An exception as one short line: library messages often span many lines, or are empty.
    ``limit=None`` keeps the whole first line, for messages whose point comes at its end."""
    text = str(error).strip()
    return text.splitlines()[0][:limit] if text else type(error).__name__

"""Starting a local Ray on a loaded machine: its processes can take longer to come up than Ray waits for (seen here:
`ray.init` timing out several times on a busy 2-core machine), so a start is retried, with a growing wait between
tries, and if it still fails the error says so in one line and names the way around it (`--engine sequential`)."""

from __future__ import annotations

import time
from collections.abc import Callable

#: Tries of a local start, and the wait after the first failure (doubled after each further one).
START_ATTEMPTS = 3
FIRST_WAIT_S = 5.0


class RayStartError(RuntimeError):
    """A local Ray did not start: an expected failure on a loaded machine, reported without a traceback."""


def start_with_retries(
    start: Callable[[], None],
    stop: Callable[[], None],
    *,
    attempts: int = START_ATTEMPTS,
    first_wait_s: float = FIRST_WAIT_S,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """Call `start` until it returns, at most `attempts` times; `stop` clears what a failed try left behind."""
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    sleep = sleep or time.sleep
    wait = first_wait_s
    for attempt in range(1, attempts + 1):
        try:
            start()
            return
        except Exception as error:  # Ray raises many kinds here (timeouts, connection and runtime errors)
            last = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
            try:
                stop()
            except Exception:
                pass
            if attempt < attempts:
                sleep(wait)
                wait *= 2
    raise RayStartError(
        f"a local Ray cluster did not start ({attempts} tries; last: {last[:200]}); the machine may be too loaded: "
        "run again later, or use --engine sequential to run in this process without Ray"
    )

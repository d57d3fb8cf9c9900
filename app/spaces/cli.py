"""What the Space commands share: an action's success as one line on stdout, an expected failure as one line on
stderr and exit status 1 (never a traceback in the workflow's log)."""

from __future__ import annotations

import sys
from collections.abc import Callable


def run_command(name: str, action: Callable[[], str],
                expected: tuple[type[Exception], ...] = (ValueError, FileNotFoundError)) -> int:
    """Runs `action`, prints the line it returns; an `expected` error is printed as `name: error`."""
    try:
        done = action()
    except expected as error:
        print(f"{name}: {error}", file=sys.stderr)
        return 1
    print(done)
    return 0

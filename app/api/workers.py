"""API worker processes that end with their master.

With ``WORKERS`` > 1, uvicorn's master process starts the workers and restarts those that die, but a worker is
not told when the master dies: after ``kill -9`` of the master (an out-of-memory kill, a supervisor's hard stop)
the workers would go on listening and answering on the port, orphaned, for as long as they live. A supervisor
that restarts the API then cannot bind, and an operator believes the old code is gone.

So `main` names the master in the environment its workers inherit (`MASTER_PID`), and each worker follows it
(`follow_master`, from the app's lifespan): the moment its parent is no longer that master, the worker sends itself
SIGTERM, uvicorn's graceful shutdown: it stops listening, answers the requests in flight, and the event writer
commits every queued event before the process exits (the guarantee of `credit_scoring.production.events` holds).
This is the check gunicorn's workers make (``ppid != os.getppid()``), which uvicorn's own supervisor lacks.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import MutableMapping

MASTER_PID = "API_MASTER_PID"  # set by main() for its workers only; not a setting
CHECK_SECONDS = 0.25
log = logging.getLogger("app.api")


def name_master(workers: int, environ: MutableMapping[str, str] = os.environ) -> None:
    """In the process about to start uvicorn: name it as the workers' master, or (one process, no workers) clear
    a name inherited from elsewhere, which would make this process stop itself."""
    if workers > 1:
        environ[MASTER_PID] = str(os.getpid())
    else:
        environ.pop(MASTER_PID, None)


def follow_master(check_seconds: float = CHECK_SECONDS) -> threading.Thread | None:
    """In a worker: a daemon thread that sends this process SIGTERM once its master is gone (its parent is no
    longer the process `MASTER_PID` names); None when this process is no worker (one process, or a test's app)."""
    named = os.environ.get(MASTER_PID)
    if not named or int(named) == os.getpid():
        return None
    master = int(named)

    def watch() -> None:
        while os.getppid() == master:
            time.sleep(check_seconds)
        log.warning("the API's master process %d is gone: worker %d stops (graceful shutdown)", master, os.getpid())
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=watch, name="follow-master", daemon=True)
    thread.start()
    return thread

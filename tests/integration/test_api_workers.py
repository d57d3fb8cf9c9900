"""Several API workers end with their master: `kill -9` of uvicorn's master under load leaves no worker alive and
nothing listening on the port (`app.api.workers`), and the workers' graceful exit still stores the event of every
prediction they answered. Without the workers following their master, they go on answering, orphaned."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

import httpx
import psutil

from credit_scoring.production.events import create_store, read_events
from tests.conftest import API_KEY, api_environment, free_port, start_service, stop_service

WORKERS = 2
ANSWERS = 100  # answered predictions before the kill (a bound on load, not on speed)
WAIT = 60.0  # seconds the workers may take to notice and drain: bounds the wait only


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def worker_processes(master: int) -> list[psutil.Process]:
    """uvicorn's workers: the master's children started by multiprocessing's spawn (not its resource tracker)."""
    return [p for p in psutil.Process(master).children() if "spawn_main" in " ".join(p.cmdline())]


def test_kill_9_of_the_master_under_load_leaves_no_worker_listening(explained_project, tmp_path):
    port = free_port()
    events_url = f"sqlite:///{tmp_path / 'e.db'}"
    env = {**api_environment(explained_project, events_url, port), "WORKERS": str(WORKERS),
           "TOKEN_SECRET": "workers-test-token-secret-0123456789abcdef"}
    master = start_service("app.api", env, f"http://127.0.0.1:{port}/health", tmp_path / "api.log")
    answered: list[str] = []
    workers: list[psutil.Process] = []
    stop, enough, lock = threading.Event(), threading.Event(), threading.Lock()

    def client(n: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as api:
            while not stop.is_set():
                try:
                    response = api.post("/predict", json={"AMT_CREDIT": 100_000.0 + n}, headers={"X-API-Key": API_KEY})
                except httpx.HTTPError:
                    time.sleep(0.01)
                    continue
                if response.status_code == 200:
                    with lock:
                        answered.append(response.json()["request_id"])
                        if len(answered) >= ANSWERS:
                            enough.set()

    try:
        deadline = time.monotonic() + 120
        while len(worker_processes(master.pid)) < WORKERS and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = worker_processes(master.pid)
        assert len(workers) == WORKERS, f"{len(workers)} worker processes, {WORKERS} expected"
        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        assert enough.wait(300), f"only {len(answered)} predictions answered: no load to speak of"
        os.kill(master.pid, signal.SIGKILL)
        master.wait(timeout=30)
        _, alive = psutil.wait_procs(workers, timeout=WAIT)
        still_listening = listening(port)
        stop.set()
        for thread in threads:
            thread.join(30)
    finally:
        stop.set()
        for process in workers:  # never leave a worker behind a failed test
            if process.is_running():
                process.kill()
        if master.poll() is None:
            stop_service(master)

    assert not alive, f"workers {[p.pid for p in alive]} still alive {WAIT:.0f} s after their master's kill -9"
    assert not still_listening, f"something still listens on port {port}"
    log = (tmp_path / "api.log").read_text()
    assert log.count("is gone: worker") == WORKERS, log[-3000:]  # each noticed it and shut down gracefully
    stored = set(read_events(create_store(events_url))["request_id"])
    assert set(answered) <= stored, f"{len(set(answered) - stored)} answered predictions without their event"


def test_only_a_master_of_several_workers_is_named_and_only_its_workers_follow_it(monkeypatch):
    from app.api import workers

    environ = {workers.MASTER_PID: "1"}  # inherited from elsewhere: one process must not follow it
    workers.name_master(1, environ)
    assert workers.MASTER_PID not in environ
    workers.name_master(WORKERS, environ)
    assert environ[workers.MASTER_PID] == str(os.getpid())
    monkeypatch.delenv(workers.MASTER_PID, raising=False)
    assert workers.follow_master() is None  # a test's app, or one process: nothing to follow
    monkeypatch.setenv(workers.MASTER_PID, str(os.getpid()))
    assert workers.follow_master() is None  # the master itself

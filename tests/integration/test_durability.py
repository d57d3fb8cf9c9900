"""No decision without its record, no personal data without its access record: the real API, killed with SIGKILL
while 16 clients load it on loopback, has stored the event of every prediction it answered with a 200 (EU AI Act
art. 12: every decision served is logged), and the access record of every client file it answered (GDPR art. 5(2):
one client in four reads clients' sheets and scores, signed in as an advisor).

With the former writer (events queued in memory, written every half second) this test fails: the events of the
last fraction of a second of answers die with the process.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pytest

from credit_scoring.production.accesses import request_accesses
from credit_scoring.production.events import create_store, read_events
from tests.conftest import API_KEY, add_people, signed_in, start_api, stop_service

KEY = {"X-API-Key": API_KEY}
READER = "a.conseil"

CLIENTS = 16
ANSWERS = 300  # answered predictions before the kill: load to speak of, whatever the machine's speed
ANSWERS_TIMEOUT = 300.0  # seconds the load may take to reach them (a bound on the wait, not a speed target)


class Load:
    """CLIENTS threads posting to /predict (one in eight a batch of three) until told to stop; the request ids each
    200 answered (answers that arrive after the kill was sent count too: the server sent them), and whether a
    request failed on the dead server."""

    def __init__(self, base: str, client_ids: list[int], token: dict) -> None:
        self.base, self.client_ids, self.token = base, client_ids, token
        self.answered: list[str] = []
        self.accessed: list[tuple[str, int]] = []  # (request id, client) of each client file answered
        self.killed = threading.Event()
        self.enough = threading.Event()  # ANSWERS answered
        self.met_dead = threading.Event()  # a request failed after the kill
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client, args=(n,)) for n in range(CLIENTS)]

    def _request(self, api: httpx.Client, n: int) -> httpx.Response:
        client_id = self.client_ids[n % len(self.client_ids)]
        if n % 4 == 3:  # a relationship manager reading a client's file
            path = f"/clients/{client_id}" if n % 8 == 3 else f"/clients/{client_id}/score"
            return api.get(path, headers=self.token)
        application = {"SK_ID_CURR": client_id, "AMT_CREDIT": 100_000.0 + 1_000.0 * (n % 200)}
        if n % 8 == 7:
            batch = [application, {"AMT_CREDIT": 200000.0}, {"SK_ID_CURR": client_id}]
            return api.post("/predict/batch", json={"applications": batch}, headers=KEY)
        return api.post("/predict", json=application, headers=KEY)

    def _client(self, index: int) -> None:
        n = index
        with httpx.Client(base_url=self.base, timeout=10) as api:
            while not self.stop.is_set():
                n += CLIENTS
                try:
                    response = self._request(api, n)
                except httpx.HTTPError:  # the server died under this request, or is gone
                    if self.killed.is_set():
                        self.met_dead.set()
                    time.sleep(0.01)
                    continue
                if response.status_code == 200 and response.request.url.path.startswith("/clients"):
                    body = response.json()
                    answered_as = response.headers.get("X-Request-Id") or body["request_id"]
                    with self._lock:
                        self.accessed.append((answered_as, body["sk_id_curr"]))
                elif response.status_code == 200:
                    body = response.json()
                    ids = [p["request_id"] for p in body.get("predictions", [body])]
                    with self._lock:
                        self.answered += ids
                        if len(self.answered) >= ANSWERS:
                            self.enough.set()

    def run_then_kill(self, process) -> int:
        """Load until ANSWERS predictions are answered, SIGKILL the server while the clients are still sending,
        then stop them once one has met the dead server; returns how many were answered when the kill was sent."""
        for thread in self.threads:
            thread.start()
        reached = self.enough.wait(ANSWERS_TIMEOUT)
        with self._lock:
            at_kill = len(self.answered)
            self.killed.set()
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        self.met_dead.wait(30)  # a client's request failed on the dead server
        self.stop.set()
        for thread in self.threads:
            thread.join(30)
        assert reached, f"only {at_kill} predictions answered in {ANSWERS_TIMEOUT:.0f} s: no load to speak of"
        return at_kill


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_kill_9_under_load_loses_no_answered_prediction_nor_access(explained_project, tmp_path, backend, request):
    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else f"sqlite:///{tmp_path / 'e.db'}"
    add_people(url)
    base, process = start_api(explained_project, url, tmp_path / "api.log")
    try:
        listed = httpx.get(f"{base}/clients", params={"limit": 50}, headers=KEY, timeout=30)
        client_ids = [c["sk_id_curr"] for c in listed.json()["clients"]]
        with httpx.Client(base_url=base, timeout=30) as http:
            token = signed_in(http, READER)
        load = Load(base, client_ids, token)
        at_kill = load.run_then_kill(process)
    finally:
        if process.poll() is None:
            stop_service(process)

    assert process.returncode == -signal.SIGKILL
    answered = set(load.answered)
    assert at_kill >= ANSWERS and len(answered) == len(load.answered)  # every answer has its own request id
    assert load.met_dead.is_set()  # requests were still being sent when the server died
    engine = create_store(url)
    stored = set(read_events(engine)["request_id"])
    unrecorded = [(request_id, client) for request_id, client in load.accessed
                  if (READER, client) not in {(a.who, a.client_id) for a in request_accesses(engine, request_id)}]
    engine.dispose()
    lost = answered - stored
    print(f"{backend}: {len(answered)} predictions answered, {len(lost)} without a stored event; "
          f"{len(load.accessed)} client files answered, {len(unrecorded)} without their access record")
    assert not lost, f"{len(lost)} of {len(answered)} answered predictions have no stored event: {sorted(lost)[:5]}"
    assert len(load.accessed) >= ANSWERS // 4, "too few client files read to speak of"
    assert not unrecorded, f"{len(unrecorded)} of {len(load.accessed)} answered files unrecorded: {unrecorded[:5]}"

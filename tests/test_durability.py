"""No decision without its record: the real API, killed with SIGKILL while 16 clients load it on loopback, has
stored the event of every request it answered with a 200 (EU AI Act art. 12: every decision served is logged).

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

from credit_scoring.events import create_store, read_events
from tests.conftest import API_KEY, start_api, stop_service

CLIENTS = 16
LOAD_SECONDS = 4.0


class Load:
    """CLIENTS threads posting to /predict (one in eight a batch of three) until told to stop; what each 200
    answered (its request ids, when it arrived) and how many requests failed."""

    def __init__(self, base: str, client_ids: list[int]) -> None:
        self.base, self.client_ids = base, client_ids
        self.answered: list[tuple[float, str]] = []
        self.failed = 0
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client, args=(n,)) for n in range(CLIENTS)]

    def _request(self, api: httpx.Client, n: int) -> httpx.Response:
        client_id = self.client_ids[n % len(self.client_ids)]
        application = {"SK_ID_CURR": client_id, "AMT_CREDIT": 100_000.0 + 1_000.0 * (n % 200)}
        if n % 8 == 7:
            return api.post("/predict/batch", json={"applications": [application, {"AMT_CREDIT": 2e5}] + [
                {"SK_ID_CURR": client_id}]})
        return api.post("/predict", json=application)

    def _client(self, index: int) -> None:
        n = index
        with httpx.Client(base_url=self.base, timeout=10) as api:
            while not self.stop.is_set():
                n += CLIENTS
                try:
                    response = self._request(api, n)
                except httpx.HTTPError:  # the server died under this request, or is gone
                    with self._lock:
                        self.failed += 1
                    time.sleep(0.01)
                    continue
                if response.status_code == 200:
                    body = response.json()
                    ids = [p["request_id"] for p in body.get("predictions", [body])]
                    with self._lock:
                        self.answered += [(time.monotonic(), i) for i in ids]

    def run_then_kill(self, process) -> float:
        """Load for LOAD_SECONDS, SIGKILL the server while the clients are still sending, then stop them;
        returns when the kill was sent."""
        for thread in self.threads:
            thread.start()
        time.sleep(LOAD_SECONDS)
        killed_at = time.monotonic()
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        time.sleep(0.3)  # the clients meet the dead server
        self.stop.set()
        for thread in self.threads:
            thread.join(30)
        return killed_at


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_kill_9_under_load_loses_no_answered_prediction(explained_project, tmp_path, backend, request):
    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else f"sqlite:///{tmp_path / 'e.db'}"
    base, process = start_api(explained_project, url, tmp_path / "api.log")
    try:
        listed = httpx.get(f"{base}/clients", params={"limit": 50}, headers={"X-API-Key": API_KEY}, timeout=30)
        client_ids = [c["sk_id_curr"] for c in listed.json()["clients"]]
        load = Load(base, client_ids)
        killed_at = load.run_then_kill(process)
    finally:
        if process.poll() is None:
            stop_service(process)

    assert process.returncode == -signal.SIGKILL
    answered = {request_id for _, request_id in load.answered}
    assert len(answered) >= 200, f"only {len(answered)} predictions answered: no load to speak of"
    assert max(t for t, _ in load.answered) > killed_at - 0.5, "the server was no longer answering when killed"
    assert load.failed >= 1  # requests were still being sent when the server died
    engine = create_store(url)
    stored = set(read_events(engine)["request_id"])
    engine.dispose()
    lost = answered - stored
    print(f"{backend}: {len(answered)} predictions answered, {len(lost)} without a stored event")
    assert not lost, f"{len(lost)} of {len(answered)} answered predictions have no stored event: {sorted(lost)[:5]}"

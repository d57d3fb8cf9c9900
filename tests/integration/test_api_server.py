"""The prediction API as a real process (`python -m app.api` under uvicorn, on a loopback port, serving the tiny
project the pipeline builds in `explained_project`): its OpenAPI document is its exact contract under
schemathesis, and a graceful shutdown flushes every event it answered."""

from __future__ import annotations

import re
import subprocess
import sysconfig
from pathlib import Path

import httpx

from credit_scoring.production.events import create_store, read_events
from tests.conftest import signed_in, start_api, stop_service
from tests.integration.test_api import KEY, count_predictions


def test_shutdown_flushes_every_event_of_a_real_server(explained_project, service, tmp_path):
    known = [int(i) for i in service.table.index[:5]]
    url = f"sqlite:///{tmp_path / 'events.db'}"
    base, process = start_api(explained_project, url, tmp_path / "api.log")
    try:
        with httpx.Client(base_url=base, headers=KEY) as api:
            sent = count_predictions(api, known)
    finally:
        stop_service(process)  # SIGTERM: a graceful shutdown (uvicorn then re-raises it: exit code -15)
    assert len(read_events(create_store(url))) == sent


REVIEW = "POST /clients/{client_id}/reviews"  # signed by a person: a key is refused (403), so a token is used


def schemathesis(api_server: str, tmp_path: Path, *options: str) -> tuple[str, int, int]:
    """schemathesis --checks all on the real API: its output, cases generated and cases passed."""
    tool = Path(sysconfig.get_path("scripts")) / "schemathesis"
    done = subprocess.run([str(tool), "run", f"{api_server}/schema/openapi.json", "--checks", "all", *options,
                           "--max-examples", "15", "--seed", "7", "--no-color"],
                          capture_output=True, text=True, timeout=900, check=False, cwd=tmp_path)  # its cache there
    summary = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
    assert done.returncode == 0 and summary, done.stdout[-4000:]
    return done.stdout, *map(int, summary.groups())


def test_the_openapi_document_is_the_server_s_exact_contract(api_service, tmp_path):
    """schemathesis --checks all on every operation of the real API, authenticated: with the bootstrap key, and
    with a reviewer's token for the one operation only a person may call. Every status the server answers is
    documented with its body and headers, every response matches its schema, every request the schema allows is
    accepted and every one it forbids is refused, credentials left out or wrong are refused (ignored_auth), and
    OPTIONS lists the path's methods. A fixed seed and budget: several thousand generated cases in a minute or
    two."""
    with httpx.Client(base_url=api_service.url, timeout=30) as http:
        token = signed_in(http, "r.revue")["Authorization"]
    operations = len([m for item in httpx.get(f"{api_service.url}/schema/openapi.json").json()["paths"].values()
                      for m in item])
    keyed, generated, passed = schemathesis(api_service.url, tmp_path, "-H", f"X-API-Key: {api_service.key}",
                                            "--exclude-name", REVIEW)
    assert generated >= 2000 and passed == generated, keyed[-4000:]
    assert f"Selected: {operations - 1}/{operations}" in keyed and f"Tested: {operations - 1}" in keyed
    signed, generated, passed = schemathesis(api_service.url, tmp_path, "-H", f"Authorization: {token}",
                                             "--include-name", REVIEW)
    assert generated >= 50 and passed == generated, signed[-4000:]
    assert f"Selected: 1/{operations}" in signed and "Tested: 1" in signed

"""Load benchmark of the prediction API (issues 6, 15 and 34): throughput, latency, errors and stored events
under load, for each event store beside the floor.

Starts `python -m app.api` on loopback over the pipeline's outputs (MODEL_DIR, EXPLAIN_DIR, DATA_DIR as the API
reads them; defaults: this checkout's `dvc repro` outputs), then drives it with wrk (Debian package `wrk`: a C
load generator, so the client does not eat the Python server's CPU) for a bounded time at each concurrency
level, on `POST /predict` (full applications of known clients, as a front office would send them; the few whose
stored values the API's bounds refuse are left out, and counted) and on `GET /clients/{id}/explanation`. It does
so once per event store: a fresh SQLite file (the default store), a fresh PostgreSQL database (made on the
server of ``--postgres-admin`` and dropped after), and the floor, the same API with its prediction events kept in
memory only (`benchmarks/api_memory_floor.py`), so that what the durable store costs is a measured ratio
(``of_floor``: a store's requests/s over the floor's, same endpoint and level). After each graceful shutdown it
counts the events kept per endpoint against the requests answered with a 200, and it times the same rows in
process (one at a time, no HTTP).

    python benchmarks/api_load.py [--duration 10] [--concurrency 1 8 32] [--workers 2] [--stores sqlite ...]
                                  [--endpoints predict explanation] [--serve DIR]

`--serve DIR` runs the API of another checkout (its code, the same models and data), so that two versions are
measured by the same client with the same settings, e.g. before and after a change of the event writer.

Targets (issue 34; 2-core machine, `WORKERS=2`, /predict): on SQLite one client p50 <= 10 ms, 8 connections
>= 400 requests/s with p99 <= 40 ms, 32 connections p99 <= 50 ms; PostgreSQL within 1.5x of those; each durable
store at least 80 % of the floor's requests/s at 8 and 32 connections; no error; events kept = requests answered.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import httpx
import msgspec
import pandas as pd
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.api.bodies import Application
from app.api.service import ScoringService
from credit_scoring.production.events import EventWriter, create_store, read_events

API_KEY = "benchmark-key"
DRAIN = 3  # seconds after each load window for the requests in flight to finish
LUA = """
local lines = {}
for line in io.lines("%(file)s") do lines[#lines + 1] = line end
counter = 0  -- global: done() reads it from each thread
local threads = {}
local stop_at = nil
function init(args) stop_at = os.time() + tonumber(args[1]) end
-- After the load window no new request starts: the ones in flight finish, so every request sent is answered.
function delay() if os.time() >= stop_at then return 3600000 end return 0 end
function setup(thread) table.insert(threads, thread) end
function request()
  counter = counter + 1
  local line = lines[(counter %% #lines) + 1]
  %(request)s
end
function done(summary, latency, requests)
  local sent = 0
  -- wrk calls request() once per thread at start-up, to learn whether requests vary: not a request sent
  for _, thread in ipairs(threads) do sent = sent + thread:get("counter") - 1 end
  io.write(string.format("SENT %%d\\n", sent))
end
"""
EVENT_NAMES = {"predict": "predict", "explanation": "client_explanation"}  # wrk script -> event endpoint
STORES = ("sqlite", "postgresql", "memory")
MEMORY = "memory"
FLOOR = REPO / "benchmarks" / "api_memory_floor.py"
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PREDICT = ('return wrk.format("POST", "/predict", {["Content-Type"] = "application/json", ["X-API-Key"] = "'
           + API_KEY + '"}, line)')
EXPLAIN = 'return wrk.format("GET", "/clients/" .. line .. "/explanation", {["X-API-Key"] = "' + API_KEY + '"})'
ENDPOINTS = {"predict": (PREDICT, "bodies.txt"), "explanation": (EXPLAIN, "ids.txt")}  # wrk script -> request, lines


def wrk(url: str, script: Path, concurrency: int, duration: int) -> dict:
    """One wrk run: requests/s, latency percentiles (ms), errors and requests sent."""
    out = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{duration + DRAIN}s", "--latency", "--timeout", "10s",
                          "-s", str(script), url, "--", str(duration)], capture_output=True, text=True,
                         check=True).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    completed = int(re.search(r"(\d+) requests in", out).group(1))
    refused = int(non_2xx.group(1)) if non_2xx else 0
    return {
        "concurrency": concurrency,
        "rps": completed / duration,  # wrk's own divides by the drain too
        "p50_ms": ms("50%"), "p90_ms": ms("90%"), "p99_ms": ms("99%"),
        "answered": completed - refused,  # with a 200
        "errors": refused + (sum(map(int, socket.groups())) if socket else 0),
        "sent": int(re.search(r"SENT (\d+)", out).group(1)),
    }


def start(env: dict, port: int, checkout: Path, store: str) -> tuple[subprocess.Popen, list[str]]:
    """The API of `checkout` (`store` "memory": its floor, `benchmarks/api_memory_floor.py`), once every worker has
    loaded the clients (each logs "serving model ..."); and the list its later stderr lines go to."""
    command = [sys.executable, str(FLOOR)] if store == MEMORY else [sys.executable, "-m", "app.api"]
    env = {**env, "PORT": str(port), "PYTHONPATH": str(checkout)}
    process = subprocess.Popen(command, cwd=checkout, env=env, stderr=subprocess.PIPE, text=True)
    ready, lines = 0, []
    for line in process.stderr:
        ready += "serving model" in line
        if ready == int(env["WORKERS"]):
            threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True).start()  # keep draining
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200:
                return process, lines
            break
    process.kill()
    raise SystemExit("the API did not start")


@contextmanager
def postgres_database(admin_url: str):
    """A database made for the run on the PostgreSQL server of `admin_url`, dropped afterwards: its URL."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"api_load_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def event_store_url(store: str, tmp: Path, postgres_admin: str):
    """The EVENTS_URL of a run: a fresh SQLite file, a fresh PostgreSQL database, or (the floor) a SQLite file
    that holds only the access log, the prediction events being kept in memory."""
    if store == "postgresql":
        with postgres_database(postgres_admin) as url:
            yield url
    else:
        yield f"sqlite:///{tmp / f'{store}-events.db'}"


def valid(application: dict) -> bool:
    """Whether the API's strict body decoding accepts this application (a few stored values exceed its bounds)."""
    try:
        msgspec.json.decode(json.dumps(application).encode(), type=Application)
    except msgspec.ValidationError:
        return False
    return True


def in_process_ms(service: ScoringService, applications: list[dict], ids: list[int]) -> tuple[float, float]:
    """Median time of one /predict scoring and one explanation, in this process, one row at a time."""
    predict, explain = [], []
    for application, client_id in zip(applications, ids, strict=True):
        fields = {k: v for k, v in application.items() if k != "SK_ID_CURR"}
        merged = service.scoring.merged_application(fields, client_id)
        started = time.perf_counter()
        service.scoring.probabilities([merged], [client_id])
        predict.append(time.perf_counter() - started)
        started = time.perf_counter()
        service.scoring.explanations([service.scoring.merged_application({}, client_id)], [client_id], 10)
        explain.append(time.perf_counter() - started)
    return statistics.median(predict) * 1e3, statistics.median(explain) * 1e3


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint and level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--workers", type=int, default=2, help="API processes (WORKERS)")
    parser.add_argument("--rows", type=int, default=500, help="distinct clients cycled through")
    parser.add_argument("--stores", nargs="+", choices=STORES, default=list(STORES),
                        help="event stores, each in its own run of the API (memory: the floor)")
    parser.add_argument("--endpoints", nargs="+", choices=list(ENDPOINTS), default=list(ENDPOINTS))
    parser.add_argument("--postgres-admin", default=os.environ.get("TEST_POSTGRES_URL", POSTGRES_ADMIN),
                        help="a PostgreSQL server's admin database: the run makes its own database there")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--serve", type=Path, default=REPO, help="checkout whose API is run (default: this one)")
    parser.add_argument("--out", type=Path, default=None, help="also write the results to this JSON file")
    args = parser.parse_args(argv)

    model_dir = os.environ.get("MODEL_DIR", str(REPO / "models" / "champion"))
    explain_dir = os.environ.get("EXPLAIN_DIR", str(REPO / "models" / "explain"))
    data_dir = os.environ.get("DATA_DIR", str(REPO / "data"))
    service = ScoringService.load(model_dir, explain_dir, data_dir)
    ids = [int(i) for i in service.table.index.to_series().sample(args.rows, random_state=0)]
    applications = [{**service.scoring.stored_application(i), "SK_ID_CURR": i} for i in ids]
    accepted = [i for i, a in enumerate(applications) if valid(a)]
    print(f"{len(ids) - len(accepted)} of {len(ids)} stored applications refused by the API's bounds, left out")
    ids, applications = [ids[i] for i in accepted], [applications[i] for i in accepted]
    predict_ms, explain_ms = in_process_ms(service, applications[:200], ids[:200])
    del service

    runs, counts, writer_ms = [], [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "bodies.txt").write_text("".join(json.dumps(a) + "\n" for a in applications))
        (tmp / "ids.txt").write_text("".join(f"{i}\n" for i in ids))
        scripts = {}
        for name, (request, file) in ENDPOINTS.items():
            scripts[name] = tmp / f"{name}.lua"
            scripts[name].write_text(LUA % {"file": tmp / file, "request": request})
        for store in args.stores:
            with event_store_url(store, tmp, args.postgres_admin) as events_url:
                env = {**os.environ, "MODEL_DIR": model_dir, "EXPLAIN_DIR": explain_dir, "DATA_DIR": data_dir,
                       "API_KEY": API_KEY, "EVENTS_URL": events_url, "RATE_LIMIT": "1000000/second",
                       "TOKEN_SECRET": "benchmark-token-secret-0123456789abcdef",  # several workers need one
                       "WORKERS": str(args.workers)}
                if store != MEMORY:
                    writer_ms[store] = writer_round_trip_ms(events_url, applications[:50])
                process, lines = start(env, args.port, args.serve.resolve(), store)
                url = f"http://127.0.0.1:{args.port}"
                try:
                    for endpoint in args.endpoints:  # warm-up, not reported (its events are counted)
                        runs.append({"store": store, "endpoint": endpoint, "warm_up": True,
                                     **wrk(url, scripts[endpoint], 4, 3)})
                    for endpoint in args.endpoints:
                        for concurrency in args.concurrency:
                            runs.append({"store": store, "endpoint": endpoint,
                                         **wrk(url, scripts[endpoint], concurrency, args.duration)})
                finally:
                    process.send_signal(signal.SIGTERM)  # graceful: the event writers flush before the exit
                    process.wait(timeout=120)
                counts.append({"store": store, **stored_events(store, events_url, lines)})
    print("one event handed to the writer until its commit is known, in process (median): "
          + ", ".join(f"{store} {ms:.2f} ms" for store, ms in writer_ms.items()))
    report(pd.DataFrame(runs), pd.DataFrame(counts).set_index("store"),
           {"predict": predict_ms, "explanation": explain_ms}, args)


def writer_round_trip_ms(events_url: str, applications: list[dict], n: int = 200) -> float:
    """Median time, in this process, from handing one event to an `EventWriter` on the store to its future
    resolved (queue hand-off, the writer's wake-up, the insert and the commit, the resolution): what the durable
    path adds to a lone request. Its events carry the endpoint "benchmark_writer", not counted as answers."""
    engine = create_store(events_url)
    times = []
    with EventWriter(engine) as writer:
        for application in (applications * (n // len(applications) + 1))[:n]:
            event = {"model_version": "benchmark", "inputs": application, "probability": 0.5,
                     "decision": "accordé", "threshold": 0.5, "latency_ms": 0.0, "endpoint": "benchmark_writer"}
            started = time.perf_counter()
            writer.put(event).result(timeout=30)
            times.append(time.perf_counter() - started)
    engine.dispose()
    return statistics.median(times) * 1e3


def stored_events(store: str, events_url: str, lines: list[str]) -> dict[str, int]:
    """Events kept per endpoint of the wrk scripts: read from the store, or (the floor) as its workers printed
    them at shutdown."""
    if store == MEMORY:
        kept = {}
        for line in lines:
            if line.startswith("MEMORY_EVENTS"):
                for part in line.split()[1:]:
                    name, _, number = part.partition("=")
                    kept[name] = kept.get(name, 0) + int(number)
    else:
        engine = create_store(events_url)
        kept = read_events(engine)["endpoint"].value_counts().to_dict()
        engine.dispose()
    return {endpoint: int(kept.get(event_name, 0)) for endpoint, event_name in EVENT_NAMES.items()}


def report(everything: pd.DataFrame, stored: pd.DataFrame, in_process: dict[str, float], args) -> None:
    """The runs side by side (each store's throughput as a share of the floor's), events stored against requests
    answered with a 200, and the targets (issue 34); with --out, the same as JSON."""
    table = everything[everything["warm_up"].isna()].drop(columns="warm_up").reset_index(drop=True)
    table["in_process_ms"] = table["endpoint"].map(in_process)
    floor = table[table["store"] == MEMORY].set_index(["endpoint", "concurrency"])["rps"]
    table["of_floor"] = [row.rps / floor.get((row.endpoint, row.concurrency), float("nan"))
                         for row in table.itertuples()]
    answered = everything.groupby(["store", "endpoint"])["answered"].sum().unstack("endpoint")
    pd.set_option("display.width", 200)
    print(f"API of {args.serve.resolve()} with {args.workers} worker(s), {args.duration} s per run, wrk 1 thread; "
          f"memory = prediction events kept in memory only (the floor)\n")
    print(table.round(2).to_string(index=False))
    print("\nrequests answered with a 200 (warm-up runs included), then events kept:")
    print(pd.concat({"answered": answered, "events": stored[answered.columns]}, axis=1).to_string())

    def run(store: str, concurrency: int) -> pd.Series | None:
        found = table[(table["store"] == store) & (table["endpoint"] == "predict")
                      & (table["concurrency"] == concurrency)]
        return None if found.empty else found.iloc[0]

    checks = {"no error on any run": int(table["errors"].sum()) == 0}
    for store in args.stores:
        checks[f"{store}: events kept = requests answered"] = bool(
            (stored.loc[store, answered.columns] == answered.loc[store]).all())
    for store, slack in (("sqlite", 1.0), ("postgresql", 1.5)):
        one, eight, many = run(store, 1), run(store, 8), run(store, 32)
        if one is not None:
            checks[f"{store}: one client p50 <= {10 * slack:g} ms ({one['p50_ms']:.1f})"] = one["p50_ms"] <= 10 * slack
        if eight is not None:
            checks[f"{store}: 8 connections >= {400 / slack:.0f} requests/s ({eight['rps']:.0f})"] = \
                eight["rps"] >= 400 / slack
            checks[f"{store}: 8 connections p99 <= {40 * slack:g} ms ({eight['p99_ms']:.1f})"] = \
                eight["p99_ms"] <= 40 * slack
        if many is not None:
            checks[f"{store}: 32 connections p99 <= {50 * slack:g} ms ({many['p99_ms']:.1f})"] = \
                many["p99_ms"] <= 50 * slack
        for concurrency, found in ((8, eight), (32, many)):
            if found is not None and not math.isnan(found["of_floor"]):
                checks[f"{store}: >= 80 % of the floor's requests/s at {concurrency} ({found['of_floor']:.0%})"] = \
                    found["of_floor"] >= 0.8
    print()
    for check, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {check}")
    if args.out:
        args.out.write_text(json.dumps({"serve": str(args.serve.resolve()), "runs": table.to_dict("records"),
                                        "answered": answered.to_dict("index"), "stored": stored.to_dict("index"),
                                        "checks": {k: bool(v) for k, v in checks.items()}}, indent=1))


if __name__ == "__main__":
    main()

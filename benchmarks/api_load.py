"""Load benchmark of the prediction API (issues 6 and 15): throughput, latency, errors and stored events under load.

Starts `python -m app.api` on loopback over the pipeline's outputs (MODEL_DIR, EXPLAIN_DIR, DATA_DIR as the API
reads them; defaults: this checkout's `dvc repro` outputs), then drives it with wrk (Debian package `wrk`: a C
load generator, so the client does not eat the Python server's CPU) for a bounded time at each concurrency
level, on `POST /predict` (full applications of known clients, as a front office would send them; the few whose
stored values the API's bounds refuse are left out, and counted) and on `GET /clients/{id}/explanation`. After
a graceful shutdown it counts the events the store holds per endpoint against the requests answered with a 200,
and times the same rows in process (one at a time, no HTTP) for the ratio.

    python benchmarks/api_load.py [--duration 10] [--concurrency 1 8 32] [--workers 2] [--serve DIR]

`--serve DIR` runs the API of another checkout (its code, the same models and data), so that two versions are
measured by the same client with the same settings, e.g. before and after a change of the event writer.

Targets (2-core machine): >= 300 requests/s on /predict, p99 <= 50 ms, no error, events stored = requests
answered, p50 <= 3x the in-process time. By Little's law p50 >= concurrency / throughput, so the latency targets
are reported at every level and the throughput one at the highest.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import msgspec
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.api.bodies import Application
from app.api.service import ScoringService
from credit_scoring.production.events import create_store, read_events

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
PREDICT = ('return wrk.format("POST", "/predict", {["Content-Type"] = "application/json", ["X-API-Key"] = "'
           + API_KEY + '"}, line)')
EXPLAIN = 'return wrk.format("GET", "/clients/" .. line .. "/explanation", {["X-API-Key"] = "' + API_KEY + '"})'


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


def start(env: dict, port: int, checkout: Path) -> subprocess.Popen:
    """The API of `checkout`, once every worker has loaded the clients (each logs "serving model ...")."""
    process = subprocess.Popen([sys.executable, "-m", "app.api"], cwd=checkout, env={**env, "PORT": str(port)},
                               stderr=subprocess.PIPE, text=True)
    ready = 0
    for line in process.stderr:
        ready += "serving model" in line
        if ready == int(env["WORKERS"]):
            threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()  # keep draining
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200:
                return process
            break
    process.kill()
    raise SystemExit("the API did not start")


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
    parser.add_argument("--events-url", default=None, help="event store (default: a fresh SQLite file)")
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

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        events_url = args.events_url or f"sqlite:///{tmp / 'events.db'}"
        (tmp / "bodies.txt").write_text("".join(json.dumps(a) + "\n" for a in applications))
        (tmp / "ids.txt").write_text("".join(f"{i}\n" for i in ids))
        scripts = {}
        for name, request, file in (("predict", PREDICT, "bodies.txt"), ("explanation", EXPLAIN, "ids.txt")):
            scripts[name] = tmp / f"{name}.lua"
            scripts[name].write_text(LUA % {"file": tmp / file, "request": request})
        env = {**os.environ, "MODEL_DIR": model_dir, "EXPLAIN_DIR": explain_dir, "DATA_DIR": data_dir,
               "API_KEY": API_KEY, "EVENTS_URL": events_url, "RATE_LIMIT": "1000000/second",
               "TOKEN_SECRET": "benchmark-token-secret-0123456789abcdef",  # several workers need one
               "WORKERS": str(args.workers)}
        before = len(read_events(create_store(events_url))) if args.events_url else 0
        process = start(env, args.port, args.serve.resolve())
        url = f"http://127.0.0.1:{args.port}"
        runs = []
        try:
            for endpoint in ("predict", "explanation"):  # warm-up, not reported (its events are counted)
                runs.append({"endpoint": endpoint, "warm_up": True, **wrk(url, scripts[endpoint], 4, 3)})
            for endpoint in ("predict", "explanation"):
                for concurrency in args.concurrency:
                    runs.append({"endpoint": endpoint, **wrk(url, scripts[endpoint], concurrency, args.duration)})
        finally:
            process.send_signal(signal.SIGTERM)  # graceful: the event writers flush before the processes exit
            process.wait(timeout=120)
        events = read_events(create_store(events_url)).iloc[before:]
    report(pd.DataFrame(runs), events, {"predict": predict_ms, "explanation": explain_ms}, args)


def report(everything: pd.DataFrame, events: pd.DataFrame, in_process: dict[str, float], args) -> None:
    """The table of runs, events stored against requests answered with a 200, and the targets; with --out, the
    same as JSON."""
    endpoints = {"predict": "predict", "explanation": "client_explanation"}  # wrk script -> event endpoint
    counts = events["endpoint"].value_counts()
    stored = {e: int(counts.get(endpoints[e], 0)) for e in endpoints}
    answered = {e: int(everything.loc[everything["endpoint"] == e, "answered"].sum()) for e in endpoints}
    sent = {e: int(everything.loc[everything["endpoint"] == e, "sent"].sum()) for e in endpoints}
    table = everything[everything["warm_up"].isna()].drop(columns="warm_up")
    table["in_process_ms"] = table["endpoint"].map(in_process)
    table["p50_ratio"] = table["p50_ms"] / table["in_process_ms"]
    pd.set_option("display.width", 200)
    print(f"API of {args.serve.resolve()} with {args.workers} worker(s), {args.duration} s per run, wrk 1 thread\n")
    print(table.round(2).to_string(index=False))
    print(f"\nrequests sent {sent}, answered with a 200 {answered}, events stored {stored} (warm-up runs included)")
    top = table[(table["endpoint"] == "predict") & (table["concurrency"] == max(args.concurrency))].iloc[0]
    checks = {
        f"/predict >= 300 requests/s at concurrency {top['concurrency']}": top["rps"] >= 300,
        "no error on any run": int(table["errors"].sum()) == 0,
        "events stored = requests answered": stored == answered,
    }
    for _, run in table.iterrows():
        where = f"{run['endpoint']} at concurrency {run['concurrency']}"
        checks[f"p99 <= 50 ms, {where} ({run['p99_ms']:.1f} ms)"] = run["p99_ms"] <= 50
        checks[f"p50 <= 3x in process, {where} ({run['p50_ratio']:.1f}x)"] = run["p50_ratio"] <= 3
    print()
    for check, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {check}")
    if args.out:
        args.out.write_text(json.dumps({"serve": str(args.serve.resolve()), "runs": table.to_dict("records"),
                                        "sent": sent, "answered": answered, "stored": stored,
                                        "checks": {k: bool(v) for k, v in checks.items()}}, indent=1))


if __name__ == "__main__":
    main()

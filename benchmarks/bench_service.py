"""Service throughput and latency: ``askwell serve --workers 2`` on loopback, under load.

Three phases against ``POST /v1/analyze``, each bounded in time:

* **misses at a fixed rate** (open loop, 300/s by default): every request a distinct
  question (a counter in the text), so each one runs the safeguards and the whole
  analysis; latency counted from when each request was due (no coordinated omission);
* **misses, as fast as it goes** (closed loop): the uncached throughput ceiling;
* **hits, as fast as it goes**: a small set of questions, sent to every worker
  beforehand, so each one is answered from the cache.

The load generator is ``wrk`` (Debian's package, installed here when missing and when
running as root) with a Lua script that builds each request; without it, a Python
asyncio + httpx generator does the same, slower. Only 127.0.0.1 is ever contacted.
Hits, misses and errors are read back from the service's own /metrics.

Targets (issue 6): >= 300 analyses/s uncached with p99 < 100 ms, >= 3,000/s cached, no
errors. Run: ``.venv/bin/python benchmarks/bench_service.py [--seconds 10] [--json out]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parents[1]

BODY = ("<p>I brew stout at home (batch {n}) and bottle it with priming sugar at 18C. After about two "
        "weeks the beer loses its carbonation and tastes flat.</p><p>What I tried: new caps, more "
        "priming sugar, and storing the bottles upright in a dark cupboard. None of it helped.</p>"
        "<pre><code>gravity: 1.012\ntemp: 18C</code></pre><p>I expected it to stay fizzy for at "
        "least a month. What am I missing?</p>")
TITLE = "How do I keep batch {n} of my stout from going flat after bottling?"


def question(n: int | str) -> dict[str, Any]:
    return {"title": TITLE.format(n=n), "body": BODY.format(n=n), "tags": ["carbonation", "bottling"],
            "site": "beer.stackexchange.com"}


LUA = r"""
local counter = 0
local threads = 0
local mode = "%(mode)s"
local hot = %(hot)d
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local function esc(s) return (s:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('\n', '\\n')) end
function request()
  counter = counter + 1
  local n
  if mode == "miss" then n = "w" .. tid .. "-" .. counter else n = "hot-" .. (counter %% hot) end
  local title = string.format(%(title)s, n)
  local body = string.format(%(body)s, n)
  local payload = '{"title":"' .. esc(title) .. '","body":"' .. esc(body) ..
    '","tags":["carbonation","bottling"],"site":"beer.stackexchange.com"}'
  return wrk.format("POST", "/v1/analyze", {["Content-Type"] = "application/json"}, payload)
end
function done(summary, latency, requests)
  io.write(string.format('RESULT {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p99_us":%%d,' ..
    '"non2xx":%%d,"timeouts":%%d,"connect":%%d,"read":%%d,"write":%%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status, summary.errors.timeout, summary.errors.connect, summary.errors.read,
    summary.errors.write))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def http(method: str, url: str, payload: Any = None, timeout: float = 10) -> tuple[int, bytes]:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def metric_sum(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def counters(base: str) -> dict[str, float]:
    _, body = http("GET", f"{base}/metrics")
    text = body.decode()
    errors = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                 if line.startswith("askwell_requests_total{")
                 and re.search(r'status="[45]\d\d"', line) and "/v1/analyze" in line)
    return {"hits": metric_sum(text, "askwell_cache_hits_total"),
            "misses": metric_sum(text, "askwell_cache_misses_total"), "errors": errors}


def _add_counts(r: dict[str, Any], before: dict[str, float], after: dict[str, float]) -> None:
    r["cache_hits"] = after["hits"] - before["hits"]
    r["cache_misses"] = after["misses"] - before["misses"]
    r["server_errors"] = after["errors"] - before["errors"]


def ensure_wrk() -> str | None:
    found = shutil.which("wrk")
    if found or os.environ.get("ASKWELL_BENCH_NO_WRK"):
        return found
    if os.geteuid() != 0:
        return None
    print("installing Debian's wrk for the load generator...", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, env=env, capture_output=True)
    return shutil.which("wrk")


def run_wrk(wrk: str, base: str, mode: str, seconds: float, connections: int, hot: int,
            workdir: Path) -> dict[str, Any]:
    script = workdir / f"{mode}.lua"
    fmt_title = TITLE.replace("{n}", "%s")
    fmt_body = BODY.replace("{n}", "%s")
    script.write_text(LUA % {"mode": mode, "hot": hot, "title": _lua_str(fmt_title),
                             "body": _lua_str(fmt_body)})
    out = subprocess.run([wrk, "-t1", f"-c{connections}", f"-d{max(1, int(seconds))}s", "--timeout", "5s",
                          "-s", str(script), base], capture_output=True, text=True, check=True,
                         timeout=seconds + 60)
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("RESULT "))
    r = json.loads(line[len("RESULT "):])
    errors = r["non2xx"] + r["timeouts"] + r["connect"] + r["read"] + r["write"]
    return {"requests": r["requests"], "seconds": r["duration_us"] / 1e6,
            "per_second": r["requests"] / (r["duration_us"] / 1e6), "p50_ms": r["p50_us"] / 1000,
            "p99_ms": r["p99_us"] / 1000, "errors": errors, "generator": "wrk",
            "connections": connections}


def _lua_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


async def _python_load(base: str, mode: str, seconds: float, connections: int, hot: int) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    errors = 0
    counter = 0
    deadline = time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient, wid: int) -> None:
        nonlocal errors, counter
        while time.perf_counter() < deadline:
            counter += 1
            n = f"p{wid}-{counter}" if mode == "miss" else f"hot-{counter % hot}"
            t = time.perf_counter()
            try:
                resp = await client.post(f"{base}/v1/analyze", json=question(n))
                ok = resp.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - t)
            errors += 0 if ok else 1

    start = time.perf_counter()
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=5.0) as client:
        await asyncio.gather(*(worker(client, i) for i in range(connections)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    pick = (lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000) if latencies \
        else (lambda q: float("nan"))
    return {"requests": len(latencies), "seconds": elapsed, "per_second": len(latencies) / elapsed,
            "p50_ms": pick(0.50), "p99_ms": pick(0.99), "errors": errors, "generator": "python-httpx",
            "connections": connections}


async def _python_paced(base: str, rate: float, seconds: float) -> dict[str, Any]:
    """Open loop: request i is sent at start + i / rate whatever happened before, and its
    latency counts from that scheduled moment (no coordinated omission)."""
    import httpx

    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0

    async def one(client: httpx.AsyncClient, i: int, due: float) -> None:
        nonlocal errors
        try:
            resp = await client.post(f"{base}/v1/analyze", json=question(f"paced-{i}"))
            errors += 0 if resp.status_code == 200 else 1
        except httpx.HTTPError:
            errors += 1
        latencies.append(time.perf_counter() - due)

    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(limits=limits, timeout=5.0) as client:
        tasks = []
        start = time.perf_counter()
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(client, i, due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {"requests": total, "seconds": elapsed, "per_second": total / elapsed,
            "offered_per_second": rate, "p50_ms": latencies[len(latencies) // 2] * 1000,
            "p99_ms": latencies[min(total - 1, int(0.99 * total))] * 1000, "errors": errors,
            "generator": "python-httpx (open loop)", "connections": "as needed"}


class Server:
    """``askwell serve`` in a child process (own process group), stopped cleanly."""

    def __init__(self, workers: int, home: Path, extra_env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        env = {**os.environ, "ASKWELL_HOME": str(home), "ASKWELL_RATE_LIMIT": "0",
               "ASKWELL_SYNC_SECONDS": "0", **extra_env}
        cmd = [sys.executable, "-c", "from askwell.cli import main; main()", "serve",
               "--host", HOST, "--port", str(self.port), "--workers", str(workers)]
        self.log = (home / "serve.log").open("w")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True, cwd=str(REPO))

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        ready = 0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"askwell serve exited with {self.proc.returncode}")
            try:
                status, _ = http("GET", f"{self.base}/readyz", timeout=2)
                ready = ready + 1 if status == 200 else 0
                if ready >= 6:  # several in a row: both workers are up
                    return
            except OSError:
                ready = 0
            time.sleep(0.25)
        raise RuntimeError("askwell serve did not become ready")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="Length of each measured phase.")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rate", type=float, default=300.0, help="Offered load of the paced phase.")
    ap.add_argument("--miss-connections", type=int, default=8)
    ap.add_argument("--hit-connections", type=int, default=32)
    ap.add_argument("--hot", type=int, default=50, help="Distinct questions in the cached phase.")
    ap.add_argument("--cache", default=None, help="Cache URL for the service (default: memory).")
    ap.add_argument("--json", type=Path, default=None, help="Also write the figures here.")
    args = ap.parse_args()

    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="askwell-bench-") as tmp:
        home = Path(tmp)
        extra = {"ASKWELL_CACHE": args.cache} if args.cache else {}
        server = Server(args.workers, home, extra)
        try:
            server.wait_ready()
            base = server.base
            # warm up: each worker's first analyses, then the hot set into every worker's cache
            for i in range(40):
                http("POST", f"{base}/v1/analyze", question(f"warm-{i}"))
            for _ in range(args.workers * 4):
                for i in range(args.hot):
                    http("POST", f"{base}/v1/analyze", question(f"hot-{i}"))
            results: dict[str, Any] = {"workers": args.workers, "cpus": os.cpu_count()}
            before = counters(base)
            r = asyncio.run(_python_paced(base, args.rate, args.seconds))
            _add_counts(r, before, counters(base))
            results["miss_at_rate"] = r
            for mode, conns in (("miss", args.miss_connections), ("hit", args.hit_connections)):
                before = counters(base)
                if wrk:
                    r = run_wrk(wrk, base, mode, args.seconds, conns, args.hot, home)
                else:
                    r = asyncio.run(_python_load(base, mode, args.seconds, conns, args.hot))
                _add_counts(r, before, counters(base))
                results[mode] = r
        finally:
            server.stop()
    paced, miss, hit = results["miss_at_rate"], results["miss"], results["hit"]
    errors = sum(r["errors"] + r["server_errors"] for r in (paced, miss, hit))
    checks = {
        f"uncached: {args.rate:.0f}/s sustained": paced["per_second"] >= 0.97 * args.rate,
        f"uncached: p99 < 100 ms at {args.rate:.0f}/s": paced["p99_ms"] < 100,
        "uncached: max >= 300/s": miss["per_second"] >= 300,
        "cached: >= 3000/s": hit["per_second"] >= 3000,
        "no errors": errors == 0,
    }
    results["targets"] = checks
    print(f"askwell serve --workers {args.workers} on {os.cpu_count()} cores (load generator on the "
          "same cores)")
    rows = ((f"uncached, {args.rate:.0f}/s offered", paced), ("uncached, max (closed loop)", miss),
            ("cached, max (closed loop)", hit))
    for name, r in rows:
        print(f"  {name:30s} {r['per_second']:7.0f} analyses/s  p50 {r['p50_ms']:6.2f} ms  "
              f"p99 {r['p99_ms']:6.2f} ms  {r['requests']:>6,} requests  {r['errors']} errors  "
              f"cache {r['cache_hits']:.0f} hits/{r['cache_misses']:.0f} misses  [{r['generator']}, "
              f"{r['connections']} connections]")
    for name, ok in checks.items():
        print(f"  target {name}: {'met' if ok else 'MISSED'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

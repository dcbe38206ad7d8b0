"""Service throughput and latency, measured honestly: ``askwell serve --workers 2`` on
loopback, driven by a separate load-generator process with real questions from the dumps.

What is measured (each phase bounded in time, all against ``POST /v1/analyze``):

* **uncached, open loop at a fixed rate** (300/s by default): every request a distinct
  real question (title, body, tags, site from the shared Stack Exchange dumps; a question
  is never sent twice in the run, so each one runs the safeguards and the whole analysis).
  Request *i* is due at ``start + i / rate`` whatever happened before; its latency counts
  from that scheduled moment (no coordinated omission), and a request that could not even
  be sent on time counts as late;
* **uncached, saturation**: the open loop at a rate far above capacity, so the service's
  own ceiling shows as the achieved rate (the p99 then is queueing, reported anyway);
* **cached**: a set of real questions, sent to every worker beforehand, then asked
  again as fast as the generator goes (open loop at a high rate), all cache hits.

The load generator is a separate Python process (asyncio streams, ``--generator``) so its
CPU is not the server's; it reports its own CPU time. Beside every figure the benchmark
prints the CPU the server used (its process tree, from /proc), the generator's, and the
CPU used by *other* work on the machine during that phase (all CPU time from /proc/stat
minus both), so a noisy shared machine is visible. Hits, misses and errors are read back
from the service's own /metrics.

Targets (issue 13): uncached >= 300/s with p99 <= 100 ms, cached >= 3,000/s, on 2 workers.
Run: ``.venv/bin/python benchmarks/bench_service.py [--seconds 10] [--json]`` (needs the
shared dumps; ``--data DIR`` for another folder of dumps).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
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
SHARED = (REPO.parent / "shared" / "data" / "stackexchange",
          REPO.parent / "shared" / "data" / "stackexchange-extra")
TICKS = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------- real questions
def real_questions(roots: list[Path], limit: int, seed: int = 0) -> list[dict[str, Any]]:
    """Questions from every site dump under ``roots``, shuffled (varied sites and lengths)."""
    from askwell.data.dumpfiles import ReadStats, find_site, iter_rows, sites_in

    out: list[dict[str, Any]] = []
    for path in [p for root in roots if root.is_dir() for p in sites_in(root)]:
        if not path.is_dir():
            continue
        source = find_site(path)
        for row in iter_rows(source.posts, "posts", ReadStats()):
            if row.get("PostTypeId") != "1" or not row.get("Title"):
                continue
            tags = [t for t in row.get("Tags", "").replace("|", "<").replace(">", "<").split("<") if t]
            out.append({"title": row["Title"], "body": row.get("Body", ""), "tags": tags[:10],
                        "site": source.site})
    random.Random(seed).shuffle(out)
    return out[:limit]


# ---------------------------------------------------------------------- CPU accounting
def machine_cpu_seconds() -> float:
    """All CPU time the machine spent (user+nice+system+irq+softirq+steal), in seconds."""
    with open("/proc/stat") as fh:
        parts = fh.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in parts[:8])
    return (user + nice + system + irq + softirq + steal) / TICKS


def tree_cpu_seconds(root_pid: int) -> float:
    """CPU time (user+system, with reaped children) of a process and its live descendants."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                raw = fh.read()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2:].split()
        pid = int(entry)
        stats[pid] = fields
        children.setdefault(int(fields[1]), []).append(pid)
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        f = stats.get(pid)
        if f is None:
            continue
        total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
        todo.extend(children.get(pid, []))
    return total / TICKS


class CpuWindow:
    """CPU seconds used by the server, the generator and everything else over one phase."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.machine0 = machine_cpu_seconds()
        self.server0 = tree_cpu_seconds(server_pid)
        self.wall0 = time.monotonic()

    def close(self, generator_cpu: float) -> dict[str, float]:
        wall = time.monotonic() - self.wall0
        machine = machine_cpu_seconds() - self.machine0
        server = tree_cpu_seconds(self.server_pid) - self.server0
        other = max(machine - server - generator_cpu, 0.0)
        cores = os.cpu_count() or 1
        return {"wall_s": round(wall, 2), "server_cpu_s": round(server, 2),
                "generator_cpu_s": round(generator_cpu, 2), "other_cpu_s": round(other, 2),
                "other_cores": round(other / wall, 2) if wall else 0.0, "cores": cores,
                "loadavg_1m": round(os.getloadavg()[0], 2)}


# ---------------------------------------------------------------------- the load generator
async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    request: bytes) -> str:
    """Send one HTTP/1.1 request on a kept-alive connection and read its whole response;
    the status code. (Plain asyncio streams: httpx's client costs ~7 ms of CPU per request
    at this concurrency, so the generator, not the server, was the ceiling.)"""
    writer.write(request)
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection")
    status = status_line.split()[1].decode()
    length, chunked = 0, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _open_loop(base: str, questions: list[dict[str, Any]], rate: float, seconds: float,
                     connections: int) -> dict[str, Any]:
    """Request i is due at start + i/rate; its latency counts from then. At most
    ``connections`` in flight: a request that waits for a free connection is late, and
    that lateness is in its latency. Requests unanswered ``seconds`` after the last send
    are cut off and reported as ``unfinished`` (their p99 is then a lower bound)."""
    from urllib.parse import urlsplit

    url = urlsplit(base)
    host, port = url.hostname or HOST, url.port or 80
    total = min(int(rate * seconds), len(questions))
    requests = []
    for q in questions[:total]:
        body = json.dumps(q).encode()
        requests.append(b"POST /v1/analyze HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json"
                        b"\r\nContent-Length: %d\r\n\r\n%s" % (host.encode(), len(body), body))
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    due_queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()

    async def connection() -> None:
        reader = writer = None
        while (item := await due_queue.get()) is not None:
            i, due = item
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                assert reader is not None
                key = await _exchange(reader, writer, requests[i])
            except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                key = type(exc).__name__
                if writer is not None:
                    writer.close()
                reader = writer = None
            latencies.append(time.perf_counter() - due)
            statuses[key] = statuses.get(key, 0) + 1
        if writer is not None:
            writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    start = time.perf_counter()
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        due_queue.put_nowait((i, due))
    for _ in workers:
        due_queue.put_nowait(None)
    # bounded: what is still unanswered `seconds` after the last send is cut off and
    # counted (status "unfinished", latency up to the cut-off), never waited for forever
    _done, pending = await asyncio.wait(workers, timeout=seconds)
    cut = time.perf_counter()
    for task in pending:
        task.cancel()
    answered = len(latencies)
    if answered < total:
        statuses["unfinished"] = total - answered
        latencies.extend(cut - (start + i / rate) for i in range(answered, total))
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pick(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2)

    ok = statuses.get("200", 0)
    return {"offered_per_second": rate, "requests": total, "ok": ok, "statuses": statuses,
            "seconds": round(elapsed, 2), "per_second": round(ok / elapsed, 1),
            "p50_ms": pick(0.50), "p99_ms": pick(0.99), "max_ms": pick(1.0),
            "connections": connections}


def generator_main(spec_path: str) -> None:
    """The separate load-generator process: read the phase, run it, print one JSON line."""
    spec = json.loads(Path(spec_path).read_text())
    cpu0 = time.process_time()
    result = asyncio.run(_open_loop(spec["base"], spec["questions"], spec["rate"], spec["seconds"],
                                    spec["connections"]))
    result["generator_cpu_s"] = time.process_time() - cpu0
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")


def run_phase(server: Server, questions: list[dict[str, Any]], rate: float, seconds: float,
              connections: int, tmp: Path) -> dict[str, Any]:
    spec = tmp / "phase.json"
    spec.write_text(json.dumps({"base": server.base, "questions": questions, "rate": rate,
                                "seconds": seconds, "connections": connections}))
    before = counters(server.base)
    window = CpuWindow(server.proc.pid)
    done = subprocess.run([sys.executable, __file__, "--generator", str(spec)], capture_output=True,
                          text=True, timeout=seconds * 3 + 120, check=False)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the load generator failed: {done.stderr[-2000:]}")
    result = json.loads(lines[-1][len("RESULT "):])
    result["cpu"] = window.close(result.pop("generator_cpu_s"))
    after = counters(server.base)
    for name in ("cache_hits", "cache_misses", "server_errors"):
        result[name] = after[name] - before[name]
    ok = max(result["ok"], 1)
    result["server_cpu_ms_per_answer"] = round(result["cpu"]["server_cpu_s"] * 1000 / ok, 2)
    return result


# ---------------------------------------------------------------------- the server
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def http(method: str, url: str, payload: Any = None, timeout: float = 30) -> tuple[int, bytes]:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def metric_sum(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        head, _, value = line.rpartition(" ")
        if (head == name or head.startswith(name + "{")) and all(f'{k}="{v}"' in head
                                                                 for k, v in labels.items()):
            total += float(value)
    return total


def counters(base: str) -> dict[str, float]:
    _, body = http("GET", f"{base}/metrics")
    text = body.decode()
    return {"cache_hits": metric_sum(text, "askwell_cache_hits_total"),
            "cache_misses": metric_sum(text, "askwell_cache_misses_total"),
            "server_errors": metric_sum(text, "askwell_errors_total")}


class Server:
    """``askwell serve`` in a child process (own process group), stopped cleanly."""

    def __init__(self, workers: int, home: Path, extra_env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        env = {**os.environ, "ASKWELL_HOME": str(home), "ASKWELL_RATE_LIMIT": "0",
               "ASKWELL_SYNC_SECONDS": "0", "ASKWELL_CACHE_SIZE": "100000", **extra_env}
        cmd = [sys.executable, "-c", "from askwell.cli import main; main()", "serve",
               "--host", HOST, "--port", str(self.port), "--workers", str(workers)]
        self.log = (home / "serve.log").open("w")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True, cwd=str(REPO))

    def wait_ready(self, timeout: float = 300) -> None:
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
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()


# ---------------------------------------------------------------------- main
def _line(name: str, r: dict[str, Any]) -> str:
    c = r["cpu"]
    return (f"  {name:34s} {r['per_second']:7.1f}/s of {r['offered_per_second']:g}/s offered  "
            f"p50 {r['p50_ms']:8.1f} ms  p99 {r['p99_ms']:8.1f} ms  {r['ok']:>6,}/{r['requests']:,} ok  "
            f"hits {r['cache_hits']:.0f} misses {r['cache_misses']:.0f}  | server {c['server_cpu_s']:.1f} "
            f"CPU-s ({r['server_cpu_ms_per_answer']:.1f} ms/answer), generator {c['generator_cpu_s']:.1f}, "
            f"OTHER WORK {c['other_cpu_s']:.1f} CPU-s = {c['other_cores']:.2f} of {c['cores']} cores, "
            f"load {c['loadavg_1m']:.1f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generator", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, default=10.0, help="Length of each measured phase.")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rate", type=float, default=300.0, help="Offered load of the paced phase.")
    ap.add_argument("--saturate", type=float, default=1000.0, help="Offered load of the ceiling phase.")
    ap.add_argument("--cached-rate", type=float, default=6000.0, help="Offered load, cached phase.")
    ap.add_argument("--connections", type=int, default=64, help="Most requests in flight.")
    ap.add_argument("--hot", type=int, default=200, help="Distinct questions in the cached phase.")
    ap.add_argument("--cache", default=None, help="Cache URL for the service (default: memory).")
    ap.add_argument("--data", type=Path, action="append", default=None,
                    help="A folder of site dumps (repeatable; default: the two shared folders).")
    ap.add_argument("--json", action="store_true", help="Print the figures as JSON on stdout.")
    args = ap.parse_args()
    if args.generator:
        generator_main(args.generator)
        return 0
    roots = args.data or list(SHARED)
    if not any(r.is_dir() for r in roots):
        print(f"no dumps at {', '.join(map(str, roots))}: pass --data DIR", file=sys.stderr)
        return 2

    need = int((args.rate + args.saturate) * args.seconds) + args.hot + 100
    pool = real_questions(roots, need)
    hot, warm, fresh = pool[:args.hot], pool[args.hot:args.hot + 100], pool[args.hot + 100:]
    lengths = sorted(len(q["title"]) + len(q["body"]) for q in fresh)
    results: dict[str, Any] = {
        "workers": args.workers, "cores": os.cpu_count(), "questions": len(pool),
        "sites": len({q["site"] for q in pool}),
        "chars_p50": lengths[len(lengths) // 2] if lengths else 0,
        "chars_p90": lengths[int(len(lengths) * 0.9)] if lengths else 0,
    }
    with tempfile.TemporaryDirectory(prefix="askwell-bench-") as tmp:
        home = Path(tmp)
        extra = {"ASKWELL_CACHE": args.cache} if args.cache else {}
        server = Server(args.workers, home, extra)
        try:
            server.wait_ready()
            for q in warm:  # each worker's first analyses (imports, caches) are not measured
                http("POST", f"{server.base}/v1/analyze", q)
            for _ in range(args.workers * 4):  # the hot set into every worker's cache
                for q in hot:
                    http("POST", f"{server.base}/v1/analyze", q)
            n_paced = int(args.rate * args.seconds)
            results["uncached_at_rate"] = run_phase(server, fresh[:n_paced], args.rate, args.seconds,
                                                    args.connections, home)
            results["uncached_saturation"] = run_phase(server, fresh[n_paced:], args.saturate,
                                                       args.seconds, args.connections, home)
            repeats = hot * (int(args.cached_rate * args.seconds) // max(len(hot), 1) + 1)
            results["cached"] = run_phase(server, repeats, args.cached_rate, args.seconds,
                                          args.connections, home)
        finally:
            server.stop()
    paced, sat, hit = results["uncached_at_rate"], results["uncached_saturation"], results["cached"]
    results["targets"] = {
        f"uncached: {args.rate:g}/s sustained": paced["per_second"] >= 0.97 * args.rate,
        f"uncached: p99 <= 100 ms at {args.rate:g}/s": paced["p99_ms"] <= 100,
        "cached: >= 3000/s": hit["per_second"] >= 3000,
        "no server errors": (paced["server_errors"] + sat["server_errors"] + hit["server_errors"]) == 0,
    }
    if args.json:
        sys.stdout.write(json.dumps(results, indent=2) + "\n")
        return 0
    print(f"askwell serve --workers {args.workers} on {os.cpu_count()} cores; load generator in a "
          f"separate process on the same machine; {results['questions']:,} real questions from "
          f"{results['sites']} sites (median {results['chars_p50']:,} characters, p90 "
          f"{results['chars_p90']:,}), none repeated in the uncached phases")
    print(_line("uncached, open loop", paced))
    print(_line("uncached, saturation (open loop)", sat))
    print(_line("cached, open loop", hit))
    for name, ok in results["targets"].items():
        print(f"  target {name}: {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

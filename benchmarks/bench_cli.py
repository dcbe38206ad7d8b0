"""Cold start of the CLI: a whole ``askwell analyze`` process against ``python -c pass``.

Run by hand::

    .venv/bin/python benchmarks/bench_cli.py [--runs 9] [--json]

Each run starts a fresh interpreter (no warm caches beyond the OS's file cache) and
analyses one short real question from the shared dumps (a different one each run, bodies
in the dumps' HTML), with the packaged default model; ``python -c pass`` runs in the same
loop, interleaved, so the two figures share the machine's load. Reported: median and p90
wall, median CPU (user + sys of the child), the ratio to ``python -c pass``, and the load
(1-minute load average before and after, and the share of the machine's CPU used by other
processes during the runs, from /proc/stat). Target (issue 12): median wall <= 1.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared" / "data" / "stackexchange"
TARGET_S = 1.5


def short_questions(shared: Path, n: int, max_words: int = 80) -> list[dict[str, str]]:
    """``n`` short real questions (title and HTML body), spread over the sites, deterministic."""
    from askwell.data.dumpfiles import ReadStats, iter_rows, sites_in

    sites = sorted(sites_in(shared))
    picked: list[dict[str, str]] = []
    per_site = max(1, -(-n // max(len(sites), 1)))
    for site in sites:
        posts = site / "Posts.xml"
        if not posts.is_file():
            continue
        found = 0
        for row in iter_rows(posts, "posts", ReadStats()):
            body = row.get("Body") or ""
            if row.get("PostTypeId") == "1" and row.get("Title") and len(body.split()) <= max_words:
                picked.append({"title": row["Title"], "body": body, "site": site.name})
                found += 1
                if found >= per_site:
                    break
        if len(picked) >= n:
            break
    return picked[:n]


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as fh:
        fields = [int(v) for v in fh.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, child CPU seconds, exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
    return wall, cpu, proc.returncode


def _summary(walls: list[float], cpus: list[float]) -> dict[str, float]:
    ordered = sorted(walls)
    return {
        "median_wall_s": round(statistics.median(walls), 3),
        "p90_wall_s": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 3),
        "min_wall_s": round(ordered[0], 3),
        "median_cpu_s": round(statistics.median(cpus), 3),
    }


def run(runs: int, shared: Path) -> dict[str, object]:
    questions = short_questions(shared, runs)
    if not questions:
        raise SystemExit(f"no questions found under {shared}")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "ASKWELL_HOME": tempfile.mkdtemp(prefix="bench-cli-")}
    py = sys.executable
    load_before = os.getloadavg()[0]
    busy0, total0 = _cpu_ticks()
    own_cpu = 0.0
    analyze: tuple[list[float], list[float]] = ([], [])
    baseline: tuple[list[float], list[float]] = ([], [])
    failures = 0
    for i in range(runs):
        q = questions[i % len(questions)]
        wall, cpu, rc = _timed([py, "-c", "pass"], env)
        baseline[0].append(wall)
        baseline[1].append(cpu)
        own_cpu += cpu
        wall, cpu, rc = _timed([py, "-m", "askwell.cli", "analyze", "--title", q["title"],
                                "--body", q["body"]], env)
        failures += rc != 0
        analyze[0].append(wall)
        analyze[1].append(cpu)
        own_cpu += cpu
    busy1, total1 = _cpu_ticks()
    hz = os.sysconf("SC_CLK_TCK")
    ncpu = os.cpu_count() or 1
    machine_busy = (busy1 - busy0) / max(total1 - total0, 1)
    others = max(0.0, machine_busy - own_cpu * hz / max(total1 - total0, 1))
    a, b = _summary(*analyze), _summary(*baseline)
    return {
        "runs": runs,
        "questions": len(questions),
        "analyze": a,
        "python_pass": b,
        "ratio_median_wall": round(a["median_wall_s"] / max(b["median_wall_s"], 1e-9), 1),
        "overhead_median_wall_s": round(a["median_wall_s"] - b["median_wall_s"], 3),
        "target_median_wall_s": TARGET_S,
        "meets_target": a["median_wall_s"] <= TARGET_S,
        "failures": failures,
        "load": {
            "loadavg_1m_before": round(load_before, 2),
            "loadavg_1m_after": round(os.getloadavg()[0], 2),
            "cpus": ncpu,
            "other_processes_cpu_share": round(others, 3),
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=9, help="Processes of each kind (default 9).")
    ap.add_argument("--shared", type=Path, default=Path(os.environ.get("ASKWELL_SHARED_DATA", DEFAULT_SHARED)),
                    help="The shared dumps folder.")
    ap.add_argument("--json", action="store_true", help="Print the figures as JSON only.")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    result = run(args.runs, args.shared)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    a, b, load = result["analyze"], result["python_pass"], result["load"]
    print(f"cold `askwell analyze` (short real questions, default model), {result['runs']} runs each, interleaved")
    print(f"  analyze      median {a['median_wall_s']:.3f} s wall (p90 {a['p90_wall_s']:.3f}, min "
          f"{a['min_wall_s']:.3f}), CPU {a['median_cpu_s']:.3f} s")
    print(f"  python -c pass  median {b['median_wall_s']:.3f} s wall, CPU {b['median_cpu_s']:.3f} s")
    print(f"  ratio {result['ratio_median_wall']}x, overhead {result['overhead_median_wall_s']:.3f} s; "
          f"target <= {TARGET_S} s: {'met' if result['meets_target'] else 'NOT met'}")
    print(f"  load: 1-min average {load['loadavg_1m_before']} -> {load['loadavg_1m_after']} on "
          f"{load['cpus']} CPUs; other processes used {load['other_processes_cpu_share']:.0%} of the machine")
    if result["failures"]:
        print(f"  {result['failures']} analyze runs failed (stderr above)")


if __name__ == "__main__":
    main()

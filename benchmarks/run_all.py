"""Every benchmark of "proof under stress" in turn, then one Markdown table of their figures
against their targets.

    .venv/bin/python benchmarks/run_all.py            # about 20 minutes on 2 cores
    .venv/bin/python benchmarks/run_all.py --quick    # tiny sizes, under a minute

Each benchmark runs as its own process (its progress and its own table go to stderr) and writes
its figures with ``--json``; nothing is parsed from their text. In order:

* `reporting.py` at 20 and 200 reporters (5 Kibaru/bare PTB pairs each, 3 reports per
  reporter, then 20 reporters pausing 1 s per step), then at 2,000 reporters (one pair, one
  report each): updates/s against the bare bot, p50/p99, peak RSS;
* `broadcast.py`: 10,000 subscribers at Telegram's 30 msg/s with 20 reporters chatting;
* `reminders.py`: 1,000 members' reminders due at the same moment;
* `memory.py`: 10,000 users, 2,000 open conversations resumed at once: peak RSS, start-up.

The table (figure, target, measured, met) goes to stdout and to ``--output`` (default
`benchmarks/RESULTS.md`, or `benchmarks/RESULTS-quick.md` with ``--quick``), with the date,
the commit, the machine (cores, CPU model, Python) and how busy it was meanwhile: the load
average, sampled every few seconds, and the CPU that processes other than the benchmarks took
(a busy machine makes the code look slower than it is: compare figures from quiet runs). All
figures also go to the same path with the suffix ``.json``.

``--quick`` runs tiny sizes to check that everything works; its table says that its figures
are not comparable with the targets. ``--only`` runs some benchmarks only. The exit status is 0
when every benchmark ran to its end and wrote its figures, whether or not the targets were met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import ROOT, log, revision

HERE = ROOT / "benchmarks"


@dataclass(frozen=True)
class Benchmark:
    name: str
    script: str
    full: tuple[str, ...]
    quick: tuple[str, ...] | None  # None: not run with --quick
    timeout: float  # seconds, full size; --quick allows QUICK_TIMEOUT


QUICK_TIMEOUT = 120.0
STOP_GRACE = 30.0  # SIGINT -> exit of an interrupted benchmark (it stops its processes)
PLAN = (
    Benchmark(
        "reporting",
        "reporting.py",
        ("--users=20,200", "--repeat=5", "--rounds=3", "--pace=1000", "--budget=1500"),
        ("--users=2", "--repeat=1", "--rounds=1", "--pace=0"),
        1000.0,
    ),
    Benchmark(
        "reporting-2000",
        "reporting.py",
        ("--users=2000", "--repeat=1", "--rounds=1", "--pace=0", "--budget=1500"),
        None,
        1600.0,
    ),
    Benchmark(
        "broadcast",
        "broadcast.py",
        ("--subscribers=10000", "--reporters=20", "--think=2", "--timeout=900"),
        ("--subscribers=30", "--reporters=2", "--think=0.3", "--timeout=30"),
        1100.0,
    ),
    Benchmark(
        "reminders",
        "reminders.py",
        ("--members=1000", "--lead=10"),
        ("--members=20", "--lead=2"),
        400.0,
    ),
    Benchmark(
        "memory",
        "memory.py",
        ("--users=10000", "--conversations=2000", "--starts=200"),
        ("--users=200", "--conversations=22", "--starts=5"),
        400.0,
    ),
)


# -- how busy the machine is ---------------------------------------------------------------


def _busy_seconds() -> float:
    """CPU time every process used, plus time the hypervisor stole, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _children_seconds() -> float:
    """CPU time of the benchmarks run so far and of everything they started and waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _load_average() -> float:
    with open("/proc/loadavg", encoding="ascii") as loadavg:
        return float(loadavg.read().split()[0])


class Monitor:
    """The 1-minute load average every few seconds, in a thread, while the benchmarks run."""

    def __init__(self, every: float = 5.0) -> None:
        self.samples: list[float] = []
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self.samples.append(_load_average())

    def __enter__(self) -> Monitor:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# -- running them --------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one benchmark left: its figures, or why there are none."""

    benchmark: Benchmark
    figures: dict[str, Any] | None
    status: int | None
    seconds: float
    other_cpu_share: float  # CPU of other processes, as a share of the machine's cores


def run(benchmark: Benchmark, quick: bool, folder: Path) -> Outcome:
    args = benchmark.quick if quick else benchmark.full
    assert args is not None
    output = folder / f"{benchmark.name}.json"
    command = [sys.executable, str(HERE / benchmark.script), *args, f"--json={output}"]
    log(f"\n== {benchmark.name}: {' '.join(command[1:])}")
    busy, own, started = _busy_seconds(), _children_seconds(), time.monotonic()
    # The benchmark's own table is progress here: stdout carries only the summary.
    with subprocess.Popen(command, cwd=ROOT, stdout=sys.stderr) as process:
        status = _wait(process, QUICK_TIMEOUT if quick else benchmark.timeout)
    seconds = time.monotonic() - started
    others = (_busy_seconds() - busy) - (_children_seconds() - own)
    share = max(others, 0.0) / (seconds * (os.cpu_count() or 1))
    figures = json.loads(output.read_text(encoding="utf-8")) if output.is_file() else None
    log(f"  {benchmark.name}: {seconds:.0f} s, exit status {status}")
    return Outcome(benchmark, figures, status, seconds, share)


def _wait(process: subprocess.Popen[bytes], limit: float) -> int | None:
    """The benchmark's exit status; None if it ran out of time. Then it gets SIGINT, on which
    asyncio.run cancels it and its `finally` stops the bot and the emulator it started."""
    try:
        return process.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        log(f"  out of time after {limit:.0f} s: interrupted")
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return None


# -- the table -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    figure: str
    target: str
    measured: str
    met: bool | None  # None: a figure without a target


def _mark(met: bool | None) -> str:
    return "–" if met is None else ("✅" if met else "❌")


def _n(value: float | None, digits: int = 0, unit: str = "") -> str:
    return "–" if value is None else f"{value:,.{digits}f}{unit}"


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _highest(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def reporting_rows(f: dict[str, Any]) -> list[Row]:
    target = f["targets"]["ratio"]
    rows = []
    for users, e in sorted(f["by_users"].items(), key=lambda item: int(item[0])):
        n = f"{int(users):,}"
        ratios = e["ratios"]
        shown = f"{e['ratio_median']:.2f}×" if e["ratio_median"] is not None else "–"
        if len(ratios) > 1:
            shown += f" (pairs: {', '.join(f'{r:.2f}' for r in ratios)})"
        ok = e["ratio_median"] is not None and e["ratio_median"] >= target
        rows.append(
            Row(
                f"Reports, {n} reporters at once: Kibaru's updates/s ÷ bare PTB's, saturated"
                + (f" (median of {len(ratios)} pairs)" if len(ratios) > 1 else ""),
                f"≥ {target:.2f}×",
                shown,
                ok,
            )
        )
        planned = sum(v or 0 for v in e.get("kibaru_runs_planned", []))
        completed = sum(v or 0 for v in e.get("kibaru_runs_completed", []))
        stored = sum(v or 0 for v in e.get("kibaru_stored", []) if isinstance(v, int))
        errors = [v for v in e.get("kibaru_error", []) if v]
        rows.append(
            Row(
                f"Reports, {n} reporters: reports confirmed / stored (Kibaru)",
                "all",
                f"{completed:,}/{planned:,} / {stored:,}" + (f"; {errors[0]}" if errors else ""),
                planned > 0 and completed == planned and stored >= completed and not errors,
            )
        )
        rows.append(
            Row(
                f"Reports, {n} reporters: reply latency p50 / p99, saturated",
                "–",
                f"Kibaru {_n(_median(e.get('kibaru_p50_ms', [])))} / "
                f"{_n(_median(e.get('kibaru_p99_ms', [])))} ms; bare PTB "
                f"{_n(_median(e.get('bare_p50_ms', [])))} / "
                f"{_n(_median(e.get('bare_p99_ms', [])))} ms",
                None,
            )
        )
        rows.append(
            Row(
                f"Reports, {n} reporters: peak RSS",
                "–",
                f"Kibaru {_n(_highest(e.get('kibaru_peak_rss_mb', [])), 1)} MB; bare PTB "
                f"{_n(_highest(e.get('bare_peak_rss_mb', [])), 1)} MB",
                None,
            )
        )
    for phase in f["paced"]:
        if phase["bot"] != "kibaru":
            continue
        bare: dict[str, Any] = next((p for p in f["paced"] if p["bot"] == "bare"), {})
        limit = f["targets"]["p99_ms"]
        rows.append(
            Row(
                f"Reports, {phase['users']} reporters pausing {phase['pace_ms'] / 1000:g} s per "
                "step: reply latency p99",
                f"≤ {limit:.0f} ms",
                f"{_n(phase['p99_ms'], 1)} ms (p50 {_n(phase['p50_ms'], 1)}; bare PTB p99 "
                f"{_n(bare.get('p99_ms'), 1)})",
                phase["p99_ms"] is not None and phase["p99_ms"] <= limit,
            )
        )
    return rows


def broadcast_rows(f: dict[str, Any]) -> list[Row]:
    t = f["targets"]
    who = f"Broadcast to {f['subscribers']:,} subscribers, {f['reporters']} reporters chatting"
    rows = [
        Row(
            f"{who}: sustained rate, broadcast and replies",
            f"≥ {t['rate']} msgs/s",
            f"{_n(f['rate'], 2)} msgs/s (broadcast alone {_n(f['bulk_rate'], 2)}); "
            f"{f['throttled_429']} 429s",
            f["rate"] is not None and f["rate"] >= t["rate"],
        ),
        Row(
            f"{who}: subscribers never reached / reached twice",
            "0 / 0",
            f"{f['lost']} / {f['duplicates']}",
            f["lost"] == 0 and f["duplicates"] == 0,
        ),
    ]
    if f["reporters"]:
        p99 = f["p99_s"]
        rows.append(
            Row(
                f"{who}: their reply latency p99",
                f"< {t['p99_s'] * 1000:.0f} ms",
                f"{_n(p99 and p99 * 1000)} ms (p50 {_n(f['p50_s'] and f['p50_s'] * 1000)}; "
                f"{f['replies']:,} replies, {f['reply_timeouts']} unanswered)",
                p99 is not None and p99 < t["p99_s"] and not f["reply_timeouts"],
            )
        )
    return rows


def reminders_rows(f: dict[str, Any]) -> list[Row]:
    t = f["targets"]
    who = f"Reminders of {f['members']:,} members due at the same moment"
    late = "" if f["polling_before_due_s"] >= 0 else "; the bot was not up at the due moment"
    return [
        Row(
            f"{who}: due → last delivered",
            f"≤ {t['last_s']:.0f} s",
            f"{_n(f['last_s'], 1)} s (first after {_n(f['first_s'], 1)} s, "
            f"{_n(f['rate'], 1)} msgs/s, {f['throttled_429']} 429s){late}",
            f["last_s"] is not None and f["last_s"] <= t["last_s"],
        ),
        Row(
            f"{who}: members never reminded / reminded twice",
            "0 / 0",
            f"{f['lost']} / {f['duplicates']}",
            f["lost"] == 0 and f["duplicates"] == 0,
        ),
    ]


def memory_rows(f: dict[str, Any]) -> list[Row]:
    t = f["targets"]
    size = f"{f['users']:,} users, {f['conversations']:,} open conversations"
    return [
        Row(
            f"Start-up to the first getUpdates ({f['users']:,} users in the database)",
            f"≤ {t['startup_s']} s",
            f"{f['startup_s']:.2f} s",
            f["startup_s"] <= t["startup_s"],
        ),
        Row(
            f"Peak RSS, {size} resumed at once and {f['starts']:,} /start",
            f"≤ {t['peak_rss_mb']:.0f} MB",
            f"{_n(f['peak_rss_mb'], 1)} MB (after start-up {_n(f['rss_after_startup_mb'], 1)})",
            f["peak_rss_mb"] is not None and f["peak_rss_mb"] <= t["peak_rss_mb"],
        ),
        Row(
            f"{size}: resumed at their question",
            "all",
            f"{f['answered']:,}/{f['updates']:,} answered, {f['wrong']} wrong; "
            f"p99 {_n(f['p99_s'], 1)} s",
            f["answered"] == f["updates"] and not f["wrong"],
        ),
    ]


ROWS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "reporting": reporting_rows,
    "broadcast": broadcast_rows,
    "reminders": reminders_rows,
    "memory": memory_rows,
}


def rows_of(outcome: Outcome) -> list[Row]:
    f = outcome.figures
    if f is None:
        status = "timed out" if outcome.status is None else f"exit status {outcome.status}"
        return [Row(f"{outcome.benchmark.name}: no figures", "–", status, False)]
    try:
        return ROWS[f["benchmark"]](f)
    except (KeyError, TypeError, ValueError) as error:  # figures of another shape
        return [Row(f"{outcome.benchmark.name}: unreadable figures", "–", repr(error), False)]


def markdown(outcomes: list[Outcome], monitor: Monitor, quick: bool, started: datetime) -> str:
    seconds = sum(o.seconds for o in outcomes) or 1.0
    took = f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"
    others = sum(o.other_cpu_share * o.seconds for o in outcomes) / seconds
    busiest = max(outcomes, key=lambda o: o.other_cpu_share, default=None)
    samples = monitor.samples or [_load_average()]
    lines = [
        "# Benchmark results" + (" (--quick: NOT comparable)" if quick else ""),
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC on commit `{revision()}`, "
        f"in {took}, with `benchmarks/run_all.py{' --quick' if quick else ''}`.",
        "",
        f"Machine: {os.cpu_count()} cores, {_cpu_model()}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}.",
        "",
        f"Load: 1-minute load average {statistics.mean(samples):.1f} on average and "
        f"{max(samples):.1f} at the highest during the run (the benchmarks' own processes "
        f"included); processes other than the benchmarks took {100 * others:.0f} % of the "
        "machine's CPU meanwhile"
        + (
            f" ({100 * busiest.other_cpu_share:.0f} % during {busiest.benchmark.name})"
            if busiest is not None and len(outcomes) > 1
            else ""
        )
        + ". Figures are only comparable from a quiet machine.",
        "",
    ]
    if quick:
        lines += [
            "> **--quick**: tiny sizes, run to check that every benchmark works. These figures "
            "say nothing about the targets; run `benchmarks/run_all.py` without `--quick` on a "
            "quiet machine for that.",
            "",
        ]
    lines += ["| figure | target | measured | met |", "|---|---|---|---|"]
    for outcome in outcomes:
        for row in rows_of(outcome):
            lines.append(f"| {row.figure} | {row.target} | {row.measured} | {_mark(row.met)} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: not comparable")
    parser.add_argument(
        "--only",
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        help=f"comma-separated, among: {', '.join(b.name for b in PLAN)}",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="the Markdown file (default: benchmarks/RESULTS.md, or RESULTS-quick.md)",
    )
    args = parser.parse_args()
    names = {b.name for b in PLAN}
    if args.only and not set(args.only) <= names:
        parser.error(f"--only: among {', '.join(sorted(names))}")
    output = args.output or HERE / ("RESULTS-quick.md" if args.quick else "RESULTS.md")
    plan = [
        b
        for b in PLAN
        if (not args.only or b.name in args.only) and (not args.quick or b.quick is not None)
    ]
    started = datetime.now(UTC)
    log(f"running {', '.join(b.name for b in plan)}{' (quick)' if args.quick else ''}")
    with tempfile.TemporaryDirectory(prefix="kibaru-bench-all-") as folder, Monitor() as monitor:
        outcomes = [run(benchmark, args.quick, Path(folder)) for benchmark in plan]
    table = markdown(outcomes, monitor, args.quick, started)
    print(table, end="")
    output.write_text(table, encoding="utf-8")
    figures = {o.benchmark.name: o.figures for o in outcomes}
    output.with_suffix(".json").write_text(
        json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    log(f"written to {output} and {output.with_suffix('.json')}")
    return 0 if all(o.figures is not None and o.figures.get("ok") for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())

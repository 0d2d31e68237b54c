"""How fast does Kibaru answer people? Prints a Markdown table to stdout (progress to stderr).

    .venv/bin/python benchmarks/interactive.py [--users 20,200] [--rounds N]

For each number of simulated users N, and for Kibaru and a bare python-telegram-bot bot
(`benchmarks/bare_ptb_bot.py`, the baseline), this starts the Bot API emulator with its load
generator in a process of its own (`benchmarks/emulator_server.py`), then the bot as a real
process (`run_bot.py` on a fresh SQLite file), and lets N users talk at once. Each user plays
the same 7-update scenario (/start, tap a language, a menu choice by number, /langue, tap
another language, /aide, /menu) and sends each update only once the previous one is answered;
``--rounds`` new users follow one another on each of the N slots. Reported per (bot, N):
updates handled, wall time, updates/s (and Kibaru's as a fraction of the bare bot's), latency
p50/p99 (first reply minus queue time), the bot's peak RSS (VmHWM), its start-up time until its
first getUpdates reaches the emulator, and the CPU both processes used during the load (an
emulator near 100 % would mean it, not the bot, is the bottleneck; CPU used by other processes
makes a phase suspect and is reported). Users do not pause to read, so the bot is saturated and
latency is about N / throughput (Little's law): p50/p99 say how long people wait at that load.

Diagnostics: ``--db-dir /dev/shm`` puts the database where fsync is free (what durability costs),
``--profile FILE`` runs Kibaru alone under cProfile (slower: its figures are not comparable).

``--json FILE`` also writes the figures as JSON. Everything is bounded: each phase has hard
timeouts, the whole run a time budget (phases that no longer fit are skipped and marked), and
every process started here is stopped in `finally`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import arguments, log, revision, write_json
from benchmarks.phases import (
    MIN_LOAD_TIMEOUT,
    PHASE_OVERHEAD,
    PhaseResult,
    cpu_cell,
    fmt,
    run_phase,
    share,
    user_counts,
)


def table(phases: list[PhaseResult]) -> str:
    """The Markdown table; Kibaru's updates/s also as a fraction of the bare bot's at the same N."""
    bare = {p.users: p.updates_per_s for p in phases if p.bot == "bare"}
    header = (
        "| bot | users | updates | failed | wall (s) | updates/s | vs bare | p50 (ms) | p99 (ms) "
        "| replies/update | peak RSS (MB) | start-up (ms) | bot CPU/update | emulator / other CPU |"
    )
    lines = [header, "|" + "---|" * header.count(" |")]
    for p in phases:
        r = p.result
        if p.error or not r:
            lines.append(f"| {p.bot}{p.note} | {p.users} | {p.error or 'not run'} |" + " |" * 11)
            continue
        rate, base, wall = p.updates_per_s, bare.get(p.users), r.get("wall_s")
        ratio = f"{rate / base:.2f}×" if rate and base else "–"
        bot_cpu, load = r.get("bot_cpu_s"), r.get("load_s")
        cells = [
            p.bot + p.note,
            str(p.users),
            str(r.get("updates_handled", 0)),
            str(p.failed),
            fmt(wall, 2),
            fmt(rate),
            ratio,
            fmt(r.get("p50_ms"), 1),
            fmt(r.get("p99_ms"), 1),
            fmt(r.get("reply_calls", 0) / r["updates_handled"], 2)
            if r.get("updates_handled")
            else "–",
            fmt(p.peak_rss_mb, 1),
            fmt(p.startup_ms),
            cpu_cell(bot_cpu, load, r.get("updates_handled", 0)),
            share(r.get("emulator_cpu_s"), load) + " / " + share(r.get("other_cpu_s"), load),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _print_profile(path: Path) -> None:
    """Top cumulative entries of a cProfile dump, to stderr."""
    if not path.is_file():
        log(f"no profile written at {path}")
        return
    stats = pstats.Stats(str(path), stream=sys.stderr)
    stats.sort_stats("cumulative").print_stats(40)


async def main_async(args: argparse.Namespace) -> int:
    """Phases in order N1 Kibaru, N1 bare, N2 Kibaru...: both bots see the same machine state."""
    log(f"measuring {revision()} on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    deadline = time.monotonic() + args.budget
    bots = ["kibaru"] if args.profile else ["kibaru", "bare"]
    phases: list[PhaseResult] = []
    for users in args.users:
        for bot in bots:
            remaining = deadline - time.monotonic()
            if remaining - PHASE_OVERHEAD < MIN_LOAD_TIMEOUT:
                log(f"{bot} with {users} users: skipped, {remaining:.0f} s of budget left")
                phases.append(PhaseResult(bot, users, error="skipped: time budget spent"))
                continue
            log(f"{bot} with {users} users x {args.rounds} rounds ...")
            phase = await run_phase(bot, users, args.rounds, remaining, args.profile, args.db_dir)
            phases.append(phase)
            if not phase.error:
                r = phase.result
                log(
                    f"  {r['updates_handled']}/{r['updates_planned']} updates in "
                    f"{r['wall_s']:.2f} s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
                    f"{r['polls']} getUpdates; queued -> fetched by the bot p50 "
                    f"{r['fetch_p50_ms']} ms, p99 {r['fetch_p99_ms']} ms; "
                    f"p50 by step (ms): {r['p50_by_step_ms']}"
                )
    print(table(phases))
    if args.profile:
        _print_profile(args.profile)
    ok = not any(p.error or p.failed for p in phases)
    write_json(args.json, "interactive", {"ok": ok, "phases": [p.figures() for p in phases]})
    return 0 if ok else 1


def main() -> int:
    parser = arguments("Kibaru's interactive speed against a bare python-telegram-bot bot.")
    parser.add_argument(
        "--users",
        type=user_counts,
        default=[20, 200],
        help="simulated users talking at once, comma-separated (default: 20,200)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        choices=range(1, 51),
        metavar="N",
        help="new users one after another on each slot (default: 5)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=170.0,
        help="seconds for the whole run; phases that no longer fit are skipped (default: 170)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="diagnostic run: Kibaru only, under cProfile, dump written to FILE",
    )
    args = parser.parse_args()
    if args.profile is not None:  # the bot runs in a temporary folder: no relative path
        args.profile = args.profile.resolve()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())

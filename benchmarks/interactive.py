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

Everything is bounded: each phase has hard timeouts, the whole run a time budget (phases that
no longer fit are skipped and marked), and every process started here is stopped in `finally`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BOT_SCRIPTS = {"kibaru": ROOT / "run_bot.py", "bare": ROOT / "benchmarks" / "bare_ptb_bot.py"}
READY_TIMEOUT = 15.0  # the emulator process imports aiohttp and binds a port
STARTUP_TIMEOUT = 20.0  # bot spawn -> first getUpdates
LOAD_TIMEOUT = 90.0  # first update -> last reply, per phase
STEP_TIMEOUT = 10.0  # one update -> all its replies
STOP_TIMEOUT = 10.0  # SIGTERM -> exit, before SIGKILL (Kibaru closes its database)
NOISY_SHARE = 0.10  # CPU of other processes (share of one core) that makes a phase suspect
# What a phase may take besides its load, at worst: the budget check adds it to the load's limit.
PHASE_OVERHEAD = READY_TIMEOUT + STARTUP_TIMEOUT + 5 + 2 * STOP_TIMEOUT
MIN_LOAD_TIMEOUT = 10.0  # a phase whose load would get less time than this is skipped


def log(text: str) -> None:
    """Progress goes to stderr: stdout carries only the table."""
    print(text, file=sys.stderr, flush=True)


@dataclass
class PhaseResult:
    """One (bot, N) measurement, or why there is none."""

    bot: str
    users: int
    note: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    startup_ms: float | None = None
    peak_rss_mb: float | None = None
    error: str | None = None
    inspected: dict[str, Any] = field(default_factory=dict)  # what run_phase's inspect returned

    @property
    def updates_per_s(self) -> float | None:
        wall = self.result.get("wall_s")
        handled = self.result.get("updates_handled", 0)
        return handled / wall if wall and handled else None

    @property
    def failed(self) -> int:
        """Updates not answered in time plus answers that were not the expected ones."""
        planned = self.result.get("updates_planned", 0)
        handled = self.result.get("updates_handled", 0)
        return planned - handled + self.result.get("wrong_replies", 0)


def _peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) of a live process, in MB."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _bot_env(
    base_url: str, token: str, database: Path, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The operator's environment minus any Kibaru/Telegram settings, plus the benchmark's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIBARU_", "TELEGRAM_"))}
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_API_URL": base_url,
            "KIBARU_DB": str(database),
            "KIBARU_LOG_LEVEL": "WARNING",
            # simulated users answer at machine speed, far above a person's pace: the flood
            # control would measure itself (tests/test_stress_flood.py measures it)
            "KIBARU_FLOOD_BURST": "1000000",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            **(extra or {}),
        }
    )
    return env


async def _stop(process: asyncio.subprocess.Process | None, name: str) -> None:
    """SIGTERM (a clean stop: Kibaru closes its database, cProfile writes its file), then
    SIGKILL if it takes longer than STOP_TIMEOUT."""
    if process is None or process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        log(f"  {name} did not stop within {STOP_TIMEOUT} s: killed")
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def _close_emulator(process: asyncio.subprocess.Process | None) -> None:
    """End of stdin tells the emulator process to shut down; kill it if it does not."""
    if process is None or process.returncode is not None:
        return
    if process.stdin is not None:
        process.stdin.close()
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def _read_json(stream: asyncio.StreamReader | None, seconds: float) -> dict[str, Any]:
    """The next control line of the emulator process, waiting at most ``seconds``."""
    assert stream is not None
    line = await asyncio.wait_for(stream.readline(), seconds)
    if not line:
        raise RuntimeError("the emulator process ended without answering")
    return json.loads(line)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


async def run_phase(
    bot: str,
    users: int,
    rounds: int,
    budget: float,
    profile: Path | None = None,
    db_dir: Path | None = None,
    *,
    scenario: str | None = None,
    script: Path | None = None,
    extra_env: dict[str, str] | None = None,
    max_load: float = LOAD_TIMEOUT,
    setup_timeout: float = 0.0,
    inspect: Callable[[Path], dict[str, Any]] | None = None,
    emulator_args: tuple[str, ...] = (),
) -> PhaseResult:
    """Emulator process, then the bot process on a fresh database, one load, then stop both.

    For other benchmarks (`benchmarks/reporting.py`): ``scenario`` (default: ``bot``) names the
    emulator's scenario, ``script`` the bot to run (default: BOT_SCRIPTS[bot]), ``extra_env``
    adds to the bot's environment, ``max_load`` caps the load's time and ``setup_timeout`` is
    the time the scenario's untimed setup may take; ``inspect`` gets the database's path once
    the bot has stopped (before the folder is deleted) and its answer goes to ``inspected``;
    ``emulator_args`` are added to `benchmarks/emulator_server.py`'s command line.
    """
    phase = PhaseResult(bot, users, note=" (cProfile)" if profile else "")
    load_timeout = min(max_load, budget - PHASE_OVERHEAD - setup_timeout)
    emulator: asyncio.subprocess.Process | None = None
    process: asyncio.subprocess.Process | None = None
    with tempfile.TemporaryDirectory(prefix=f"kibaru-bench-{bot}-", dir=db_dir) as folder:
        tmp = Path(folder)
        bot_log = tmp / "bot.log"
        try:
            emulator = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "benchmarks.emulator_server",
                f"--scenario={scenario or bot}",
                f"--users={users}",
                f"--rounds={rounds}",
                f"--startup-timeout={STARTUP_TIMEOUT}",
                f"--setup-timeout={setup_timeout or 30.0}",
                f"--load-timeout={load_timeout}",
                f"--step-timeout={STEP_TIMEOUT}",
                *emulator_args,
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            ready = await _read_json(emulator.stdout, READY_TIMEOUT)
            command = [sys.executable]
            if profile is not None:
                command += ["-m", "cProfile", "-o", str(profile)]
            command.append(str(script or BOT_SCRIPTS[bot]))
            # cwd is the temporary folder, so no `.env` of the repository is read.
            with bot_log.open("wb") as output:
                spawned_at = time.monotonic()
                process = await asyncio.create_subprocess_exec(
                    *command,
                    cwd=tmp,
                    env=_bot_env(ready["base_url"], ready["token"], tmp / "kibaru.db", extra_env),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=output,
                    stderr=output,
                )
            assert emulator.stdin is not None
            emulator.stdin.write(json.dumps({"bot_pid": process.pid}).encode() + b"\n")
            await emulator.stdin.drain()
            reading = asyncio.ensure_future(
                _read_json(emulator.stdout, STARTUP_TIMEOUT + setup_timeout + load_timeout + 5)
            )
            exiting = asyncio.ensure_future(process.wait())
            await asyncio.wait({reading, exiting}, return_when=asyncio.FIRST_COMPLETED)
            if not reading.done():
                reading.cancel()
                raise RuntimeError(f"the bot exited with status {process.returncode}")
            exiting.cancel()
            phase.result = reading.result()
            phase.peak_rss_mb = _peak_rss_mb(process.pid)
            if phase.result.get("error"):
                raise RuntimeError(phase.result["error"])
            phase.startup_ms = (phase.result["first_poll_at"] - spawned_at) * 1000
            other = phase.result.get("other_cpu_s", 0.0) / max(phase.result.get("load_s", 1), 1e-9)
            if other > NOISY_SHARE:
                log(
                    f"  ! other processes (or the hypervisor) took {100 * other:.0f} % of a core "
                    "during this phase: its figures are not reliable, run again on a quiet machine"
                )
            for failure in phase.result.get("failures", []):
                log(f"  ! {failure}")
        except (RuntimeError, TimeoutError, OSError, ValueError) as error:
            phase.error = f"{type(error).__name__}: {error}"
            log(f"  phase failed: {phase.error}")
            if tail := _tail(bot_log):
                log(f"  last lines of the bot's output:\n{tail}")
        finally:
            await _stop(process, bot)
            await _close_emulator(emulator)
            if inspect is not None and process is not None:
                phase.inspected = _inspect(inspect, tmp / "kibaru.db")
    return phase


def _inspect(inspect: Callable[[Path], dict[str, Any]], database: Path) -> dict[str, Any]:
    """The caller's look at the stopped bot's database; its failure loses no figures."""
    try:
        return inspect(database)
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"}


def _fmt(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _cpu_cell(cpu_s: float | None, load_s: float | None, updates: int) -> str:
    """CPU ms per update (steadier than wall time on a shared machine) and % of one core."""
    if cpu_s is None or not load_s or not updates:
        return "–"
    return f"{1000 * cpu_s / updates:.1f} ms ({100 * cpu_s / load_s:.0f} %)"


def _share(cpu_s: float | None, load_s: float | None) -> str:
    """CPU time as a percentage of one core over the load."""
    return "–" if cpu_s is None or not load_s else f"{100 * max(cpu_s, 0.0) / load_s:.0f} %"


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
            _fmt(wall, 2),
            _fmt(rate),
            ratio,
            _fmt(r.get("p50_ms"), 1),
            _fmt(r.get("p99_ms"), 1),
            _fmt(r.get("reply_calls", 0) / r["updates_handled"], 2)
            if r.get("updates_handled")
            else "–",
            _fmt(p.peak_rss_mb, 1),
            _fmt(p.startup_ms),
            _cpu_cell(bot_cpu, load, r.get("updates_handled", 0)),
            _share(r.get("emulator_cpu_s"), load) + " / " + _share(r.get("other_cpu_s"), load),
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


def _revision() -> str:
    """The commit measured, and whether uncommitted changes were measured with it."""
    try:
        head = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout?)"
    return head.stdout.strip()


async def main_async(args: argparse.Namespace) -> int:
    """Phases in order N1 Kibaru, N1 bare, N2 Kibaru...: both bots see the same machine state."""
    log(f"measuring {_revision()} on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
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
    return 1 if any(p.error or p.failed for p in phases) else 0


def _user_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or any(not 1 <= n <= 2000 for n in counts):
        raise argparse.ArgumentTypeError("a comma-separated list of 1..2000, e.g. 20,200")
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Kibaru's interactive speed against a bare python-telegram-bot bot."
    )
    parser.add_argument(
        "--users",
        type=_user_counts,
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
        "--db-dir",
        type=Path,
        metavar="DIR",
        help="where the fresh database goes (default: the system's temporary folder); its "
        "file system decides what each commit's fsync costs, e.g. /dev/shm makes it free",
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

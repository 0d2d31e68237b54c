"""One measured phase of the chat benchmarks (`interactive.py`, `reporting.py`): the emulator
process of `benchmarks/emulator_server.py` plays a scenario as N users against one bot process,
and the figures come back as a `PhaseResult`; plus the table cells both scripts print.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    READY_TIMEOUT,
    ROOT,
    STOP_TIMEOUT,
    emulator_process,
    log,
    memory_mb,
    tail,
)

BOT_SCRIPTS = {"kibaru": ROOT / "run_bot.py", "bare": ROOT / "benchmarks" / "bare_ptb_bot.py"}
STARTUP_TIMEOUT = 20.0  # bot spawn -> first getUpdates
LOAD_TIMEOUT = 90.0  # first update -> last reply, per phase
STEP_TIMEOUT = 10.0  # one update -> all its replies
NOISY_SHARE = 0.10  # CPU of other processes (share of one core) that makes a phase suspect
# What a phase may take besides its load, at worst: the budget check adds it to the load's limit.
PHASE_OVERHEAD = READY_TIMEOUT + STARTUP_TIMEOUT + 5 + 2 * STOP_TIMEOUT
MIN_LOAD_TIMEOUT = 10.0  # a phase whose load would get less time than this is skipped
MAX_USERS = 2000


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

    def figures(self) -> dict[str, Any]:
        """What `--json` keeps of the phase."""
        r = self.result
        return {
            "bot": self.bot,
            "users": self.users,
            "error": self.error,
            "updates_per_s": self.updates_per_s,
            "failed_updates": self.failed if r else None,
            "p50_ms": r.get("p50_ms"),
            "p99_ms": r.get("p99_ms"),
            "runs_planned": r.get("runs_planned"),
            "runs_completed": r.get("runs_completed"),
            "peak_rss_mb": self.peak_rss_mb,
            "startup_ms": self.startup_ms,
            "bot_cpu_s": r.get("bot_cpu_s"),
            "emulator_cpu_s": r.get("emulator_cpu_s"),
            "other_cpu_s": r.get("other_cpu_s"),
            "load_s": r.get("load_s"),
            **self.inspected,
        }


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
    step_timeout: float = STEP_TIMEOUT,
    inspect: Callable[[Path], dict[str, Any]] | None = None,
    emulator_args: tuple[str, ...] = (),
) -> PhaseResult:
    """Emulator process, then the bot process on a fresh database, one load, then stop both.

    ``scenario`` (default: ``bot``) names the emulator's scenario, ``script`` the bot to run
    (default: BOT_SCRIPTS[bot]), ``extra_env`` adds to the bot's environment, ``max_load`` caps
    the load's time and ``setup_timeout`` is the time the scenario's untimed setup may take;
    ``step_timeout`` is how long a user waits for the replies to one update (saturated, about
    N divided by the throughput); ``inspect`` gets the database's path once the bot has
    stopped (before the folder is deleted) and its answer goes to ``inspected``;
    ``emulator_args`` are added to `benchmarks/emulator_server.py`'s command line.
    """
    phase = PhaseResult(bot, users, note=" (cProfile)" if profile else "")
    load_timeout = min(max_load, budget - PHASE_OVERHEAD - setup_timeout)
    with tempfile.TemporaryDirectory(prefix=f"kibaru-bench-{bot}-", dir=db_dir) as folder:
        tmp = Path(folder)
        started = False
        try:
            async with emulator_process(
                "benchmarks.emulator_server",
                f"--scenario={scenario or bot}",
                f"--users={users}",
                f"--rounds={rounds}",
                f"--startup-timeout={STARTUP_TIMEOUT}",
                f"--setup-timeout={setup_timeout or 30.0}",
                f"--load-timeout={load_timeout}",
                f"--step-timeout={step_timeout}",
                *emulator_args,
                folder=tmp,
                bot_name=bot,
            ) as running:
                process = await running.start_bot(
                    script or BOT_SCRIPTS[bot], extra_env=extra_env, profile=profile
                )
                started = True
                phase.result = await running.result(
                    STARTUP_TIMEOUT + setup_timeout + load_timeout + 5
                )
                phase.peak_rss_mb = memory_mb(process.pid)
                if phase.result.get("error"):
                    raise RuntimeError(phase.result["error"])
                phase.startup_ms = (phase.result["first_poll_at"] - running.spawned_at) * 1000
        except (RuntimeError, TimeoutError, OSError, ValueError) as error:
            phase.error = f"{type(error).__name__}: {error}"
            log(f"  phase failed: {phase.error}")
            if text := tail(tmp / "bot.log"):
                log(f"  last lines of the bot's output:\n{text}")
        if phase.result and not phase.error:
            other = phase.result.get("other_cpu_s", 0.0) / max(phase.result.get("load_s", 1), 1e-9)
            if other > NOISY_SHARE:
                log(
                    f"  ! other processes (or the hypervisor) took {100 * other:.0f} % of a core "
                    "during this phase: its figures are not reliable, run again on a quiet machine"
                )
            for failure in phase.result.get("failures", []):
                log(f"  ! {failure}")
        if inspect is not None and started:
            phase.inspected = _inspect(inspect, tmp / "kibaru.db")
    return phase


def _inspect(inspect: Callable[[Path], dict[str, Any]], database: Path) -> dict[str, Any]:
    """The caller's look at the stopped bot's database; its failure loses no figures."""
    try:
        return inspect(database)
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"}


def fmt(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def cpu_cell(cpu_s: float | None, load_s: float | None, updates: int) -> str:
    """CPU ms per update (steadier than wall time on a shared machine) and % of one core."""
    if cpu_s is None or not load_s or not updates:
        return "–"
    return f"{1000 * cpu_s / updates:.1f} ms ({100 * cpu_s / load_s:.0f} %)"


def share(cpu_s: float | None, load_s: float | None) -> str:
    """CPU time as a percentage of one core over the load."""
    return "–" if cpu_s is None or not load_s else f"{100 * max(cpu_s, 0.0) / load_s:.0f} %"


def user_counts(text: str) -> list[int]:
    """``--users``: a comma-separated list of 1..MAX_USERS."""
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or any(not 1 <= n <= MAX_USERS for n in counts):
        raise argparse.ArgumentTypeError(
            f"a comma-separated list of 1..{MAX_USERS}, e.g. 20,200,2000"
        )
    return counts

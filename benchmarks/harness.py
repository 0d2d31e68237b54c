"""What every benchmark's caller shares: the processes it starts and stops, the options every
script takes, and its figures as JSON for `benchmarks/run_all.py`.

Each benchmark runs the bot under test as a real process (`run_bot.py`, or a bare
python-telegram-bot baseline) against the Bot API emulator, which runs with its load generator in
a process of its own so that neither takes CPU from the other's event loop. The emulator
process speaks one JSON object per line (see `benchmarks/emulator_server.py`): it announces
``{"event": "ready", "base_url", "token"}``, is told ``{"bot_pid": PID}`` once the bot is
started, answers ``{"event": "result", ...}`` when its load is over, and shuts down at the end
of its stdin. `emulator_process` runs that dialogue and stops both processes whatever happens.

Timing across processes uses ``time.monotonic()`` (CLOCK_MONOTONIC, the same clock in every
process on Linux), so the caller subtracts the emulator's stamps from its own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KIBARU = ROOT / "run_bot.py"
READY_TIMEOUT = 15.0  # the emulator process imports aiohttp and binds a port
STOP_TIMEOUT = 10.0  # SIGTERM -> exit, before SIGKILL (Kibaru closes its database)


def log(text: str) -> None:
    """Progress goes to stderr: stdout carries only the figures."""
    print(text, file=sys.stderr, flush=True)


def revision() -> str:
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


def memory_mb(pid: int, field: str = "VmHWM") -> float | None:
    """A memory figure of a live process from /proc, in MB: VmHWM (peak resident set, what
    the benchmarks judge) or VmRSS (resident now)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def bot_env(
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


async def stop(process: asyncio.subprocess.Process | None, name: str) -> None:
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


async def close_emulator(process: asyncio.subprocess.Process | None) -> None:
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


async def read_json(stream: asyncio.StreamReader | None, seconds: float) -> dict[str, Any]:
    """The next control line of the emulator process, waiting at most ``seconds``."""
    assert stream is not None
    line = await asyncio.wait_for(stream.readline(), seconds)
    if not line:
        raise RuntimeError("the emulator process ended without answering")
    return json.loads(line)


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class Running:
    """The emulator process and, once started, the bot process, in their own folder."""

    emulator: asyncio.subprocess.Process
    ready: dict[str, Any]
    folder: Path
    bot: asyncio.subprocess.Process | None = None
    spawned_at: float = 0.0  # monotonic, when the bot process was started

    @property
    def database(self) -> Path:
        return self.folder / "kibaru.db"

    @property
    def bot_log(self) -> Path:
        return self.folder / "bot.log"

    async def start_bot(
        self,
        script: Path = KIBARU,
        extra_env: dict[str, str] | None = None,
        profile: Path | None = None,
    ) -> asyncio.subprocess.Process:
        """The bot on this folder's database (its output in ``bot.log``), announced to the
        emulator process. Its working folder is the temporary one, so no `.env` of the
        repository is read."""
        command = [sys.executable]
        if profile is not None:
            command += ["-m", "cProfile", "-o", str(profile)]
        command.append(str(script))
        env = bot_env(self.ready["base_url"], self.ready["token"], self.database, extra_env)
        with self.bot_log.open("wb") as output:
            self.spawned_at = time.monotonic()
            self.bot = await asyncio.create_subprocess_exec(
                *command,
                cwd=self.folder,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=output,
            )
        assert self.emulator.stdin is not None
        self.emulator.stdin.write(json.dumps({"bot_pid": self.bot.pid}).encode() + b"\n")
        await self.emulator.stdin.drain()
        return self.bot

    async def result(self, seconds: float) -> dict[str, Any]:
        """The emulator's result, or RuntimeError as soon as the bot exits without one."""
        assert self.bot is not None
        reading = asyncio.ensure_future(read_json(self.emulator.stdout, seconds))
        exiting = asyncio.ensure_future(self.bot.wait())
        await asyncio.wait({reading, exiting}, return_when=asyncio.FIRST_COMPLETED)
        exiting.cancel()
        if not reading.done():
            reading.cancel()
            raise RuntimeError(f"the bot exited with status {self.bot.returncode}")
        return reading.result()


@contextlib.asynccontextmanager
async def emulator_process(
    module: str, *args: str, folder: Path, bot_name: str = "kibaru"
) -> AsyncIterator[Running]:
    """``python -m module args`` until it says it is ready; on leaving, the bot (if started)
    is stopped first, then the emulator."""
    emulator = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    running: Running | None = None
    try:
        ready = await read_json(emulator.stdout, READY_TIMEOUT)
        running = Running(emulator, ready, folder)
        yield running
    finally:
        await stop(running.bot if running else None, bot_name)
        await close_emulator(emulator)


# -- the command line and the figures ------------------------------------------------------


def arguments(description: str) -> argparse.ArgumentParser:
    """A parser with the options every benchmark takes: where its database goes, and where
    its figures go as JSON."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--db-dir",
        type=Path,
        metavar="DIR",
        help="where the fresh database goes (default: the system's temporary folder); its "
        "file system decides what each commit's fsync costs, e.g. /dev/shm makes it free",
    )
    parser.add_argument(
        "--json",
        type=Path,
        metavar="FILE",
        help="also write the figures to FILE as JSON (read by benchmarks/run_all.py)",
    )
    return parser


def write_json(path: Path | None, benchmark: str, figures: dict[str, Any]) -> None:
    """The figures with what was measured; nothing when no file was asked for."""
    if path is None:
        return
    payload = {"benchmark": benchmark, "revision": revision(), **figures}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def bot_errors(log_text: str) -> int:
    """Lines of the bot's output that report a problem."""
    return sum(1 for line in log_text.splitlines() if "ERROR" in line or "Traceback" in line)

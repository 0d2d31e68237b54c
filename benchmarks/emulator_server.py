"""The Bot API emulator and the simulated users, in a process of their own.

Run by `benchmarks/interactive.py`, never by hand. It lives apart from the bot so that the
load generator and the emulator's HTTP server do not take CPU from the bot's event loop: the
bot under test is a separate `run_bot.py` (or `bare_ptb_bot.py`) process started by the caller.

Control interface, one JSON object per line:

* stdout: ``{"event": "ready", "base_url": ..., "token": ...}`` once listening, then
  ``{"event": "result", ...}`` when the load is over (nothing else is written to stdout);
* stdin: ``{"bot_pid": PID}`` once the caller started the bot; end of input means "shut down".

Timing: the emulator stamps each update when it is queued and each bot message when its
``sendMessage`` request arrives, both with ``time.monotonic()`` (CLOCK_MONOTONIC, shared by all
processes on Linux, so the caller can subtract its own stamps). The latency of an update is its
first reply minus its queue time. Each user sends the next update only once every reply to the
previous one has arrived, like a person does (with no reading time: the load is closed-loop).
The emulator also stamps when getUpdates first hands each update to the bot, which splits the
latency into "waiting to be fetched" and "being handled".

It hooks two private methods of the tests' emulator (`_get_updates`, `_bot_message`): if they
change shape, this file is the one to adapt.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from tests.bot_api_emulator import BotApiEmulator

FIRST_USER_ID = 700_000_000


@dataclass(frozen=True)
class Step:
    """One thing a user does, how many messages the bot answers, and what the last one says."""

    kind: str  # "text" (also commands) or "press" (an inline button, by label)
    value: str
    replies: int
    expect: str  # a substring of the last reply; "" checks only that it carries buttons


# The same shape for both bots: onboarding, a menu choice by number, a language change by
# button, commands. Kibaru's reply counts and texts were read off a run of the real bot.
SCENARIOS: dict[str, tuple[Step, ...]] = {
    "kibaru": (
        Step("text", "/start", 1, "Bienvenue sur Kibaru"),
        Step("press", "Français", 1, "Que voulez-vous faire ?"),
        Step("text", "5", 1, "Que voulez-vous faire ?"),
        Step("text", "/langue", 1, "Choisissez votre langue"),
        Step("press", "English", 1, "Language chosen: English"),
        Step("text", "/aide", 1, "What would you like to do?"),
        Step("text", "/menu", 1, "What would you like to do?"),
    ),
    "bare": (
        Step("text", "/start", 1, ""),
        Step("press", "Français", 1, ""),
        Step("text", "5", 1, ""),
        Step("text", "/langue", 1, ""),
        Step("press", "English", 1, ""),
        Step("text", "/aide", 1, ""),
        Step("text", "/menu", 1, ""),
    ),
}


@dataclass
class Inbox:
    """What one chat received: lets its user wait for exactly the replies it expects."""

    received: int = 0
    target: int = 0
    first_at: float | None = None
    last_at: float = 0.0
    last_message: dict[str, Any] = field(default_factory=dict)
    waiter: asyncio.Future[None] | None = None

    def expect(self, count: int) -> asyncio.Future[None]:
        """Arm for the next update: resolve once ``count`` more messages have arrived."""
        self.target = self.received + count
        self.first_at = None
        self.waiter = asyncio.get_running_loop().create_future()
        return self.waiter

    def receive(self, message: dict[str, Any], now: float) -> None:
        self.received += 1
        self.last_at = now
        self.last_message = message
        if self.first_at is None:
            self.first_at = now
        if self.waiter is not None and not self.waiter.done() and self.received >= self.target:
            self.waiter.set_result(None)


class TimedEmulator(BotApiEmulator):
    """The tests' emulator plus per-chat reply stamps (O(1) per message, no scans of
    ``sent``: with hundreds of users, ``wait_for_messages`` would cost the emulator O(n²))."""

    def __init__(self) -> None:
        super().__init__()
        self.inboxes: dict[int, Inbox] = {}
        self.first_poll_at: float | None = None
        self.first_poll = asyncio.Event()
        self.polls = 0
        self.fetched_at: dict[int, float] = {}  # update id -> first returned by getUpdates

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.polls += 1
        if self.first_poll_at is None:
            self.first_poll_at = time.monotonic()
            self.first_poll.set()
        updates = await super()._get_updates(params)
        now = time.monotonic()
        for update in updates:  # re-deliveries keep their first stamp
            self.fetched_at.setdefault(update["update_id"], now)
        return updates

    def _bot_message(
        self, method: str, params: dict[str, Any], content: dict[str, Any], raw_text: str | None
    ) -> dict[str, Any]:
        message = super()._bot_message(method, params, content, raw_text)
        inbox = self.inboxes.get(message["chat"]["id"])
        if inbox is not None:
            inbox.receive(message, time.monotonic())
        return message


@dataclass
class Tally:
    """Results of the whole load, filled in by every simulated user."""

    latencies: list[float] = field(default_factory=list)
    fetch_delays: list[float] = field(default_factory=list)  # queued -> handed to the bot
    by_step: dict[str, list[float]] = field(default_factory=dict)
    handled: int = 0
    wrong: int = 0
    failures: list[str] = field(default_factory=list)
    started_at: float = 0.0
    finished_at: float = 0.0


def _check(step: Step, message: dict[str, Any]) -> bool:
    """Whether the last reply is the one the scenario expects (not an error apology)."""
    if not message.get("reply_markup", {}).get("inline_keyboard"):
        return False
    return step.expect in message.get("text", "")


async def _one_user(
    emulator: TimedEmulator, user_id: int, steps: tuple[Step, ...], step_timeout: float, t: Tally
) -> bool:
    """Play the scenario once as a new user; False if the bot failed to answer in time."""
    user = emulator.user(user_id, "Awa", "fr")
    inbox = emulator.inboxes.setdefault(user_id, Inbox())
    for step in steps:
        done = inbox.expect(step.replies)
        queued_at = time.monotonic()
        if step.kind == "press":
            update_id = await user.press(step.value)
        else:
            update_id = await user.send_text(step.value)
        try:
            async with asyncio.timeout(step_timeout):
                await done
        except TimeoutError:
            t.failures.append(f"user {user_id}: no reply to {step.value!r} in {step_timeout} s")
            return False
        assert inbox.first_at is not None
        latency = inbox.first_at - queued_at
        t.latencies.append(latency)
        t.fetch_delays.append(emulator.fetched_at.get(update_id, inbox.first_at) - queued_at)
        t.by_step.setdefault(step.value, []).append(latency)
        t.handled += 1
        t.finished_at = max(t.finished_at, inbox.last_at)
        if not _check(step, inbox.last_message):
            t.wrong += 1
            if t.wrong <= 3:
                text = inbox.last_message.get("text", "")[:80]
                t.failures.append(f"user {user_id}: unexpected reply to {step.value!r}: {text!r}")
    return True


async def _slot(
    emulator: TimedEmulator,
    slot: int,
    users: int,
    rounds: int,
    steps: tuple[Step, ...],
    step_timeout: float,
    tally: Tally,
) -> None:
    """One simulated person at a time on this slot: ``rounds`` new users one after another."""
    for round_ in range(rounds):
        user_id = FIRST_USER_ID + round_ * users + slot
        try:
            if not await _one_user(emulator, user_id, steps, step_timeout, tally):
                return
        except AssertionError as error:  # e.g. no button with that label: the bot answered wrong
            tally.failures.append(f"user {user_id}: {error}")
            return


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process, from /proc (None if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy_seconds() -> float:
    """CPU time all processes used, plus time the hypervisor stole, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _quantile(values: list[float], q: float) -> float | None:
    """Nearest-rank quantile (no interpolation: p99 of 100 samples is the 99th)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q * len(ordered) + 0.5)))
    return ordered[rank - 1]


async def _stdin_reader() -> asyncio.StreamReader:
    """stdin as an asyncio stream (a thread blocked in readline would outlive a timeout)."""
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def _emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


async def serve(args: argparse.Namespace) -> None:
    """Start the emulator, wait for the bot's first poll, run the load, report, then idle
    until the caller closes stdin (the bot may still call the API while it shuts down)."""
    control = await _stdin_reader()
    emulator = TimedEmulator()
    await emulator.start()
    try:
        _emit({"event": "ready", "base_url": emulator.base_url, "token": emulator.token})
        try:
            async with asyncio.timeout(args.startup_timeout):
                hello = json.loads(await control.readline() or "{}")
                await emulator.first_poll.wait()
        except TimeoutError:
            _emit({"event": "result", "error": f"no getUpdates within {args.startup_timeout} s"})
            return
        _emit({"event": "result", **await _load(emulator, int(hello.get("bot_pid", 0)), args)})
        # Stay up while the caller reads the bot's memory and stops it cleanly.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(args.linger):
                while await control.readline():
                    pass
    finally:
        await emulator.stop()


async def _load(emulator: TimedEmulator, bot_pid: int, args: argparse.Namespace) -> dict[str, Any]:
    """All users at once; the figures of the load window only (start-up excluded)."""
    steps = SCENARIOS[args.scenario]
    tally = Tally()
    bot_cpu_before = _cpu_seconds(bot_pid) if bot_pid else None
    own_cpu_before = time.process_time()
    machine_before = _machine_busy_seconds()
    calls_before = len(emulator.calls)
    polls_before = emulator.polls
    tally.started_at = time.monotonic()
    tasks = [
        asyncio.create_task(
            _slot(emulator, slot, args.users, args.rounds, steps, args.step_timeout, tally)
        )
        for slot in range(args.users)
    ]
    _, pending = await asyncio.wait(tasks, timeout=args.load_timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if pending:
        tally.failures.append(f"load not finished within {args.load_timeout} s")
    load_end = time.monotonic()
    bot_cpu_after = _cpu_seconds(bot_pid) if bot_pid else None
    own_cpu = time.process_time() - own_cpu_before
    machine = _machine_busy_seconds() - machine_before
    bot_cpu = (
        bot_cpu_after - bot_cpu_before
        if bot_cpu_before is not None and bot_cpu_after is not None
        else None
    )
    p50 = {name: _quantile(values, 0.5) for name, values in tally.by_step.items()}
    return {
        "first_poll_at": emulator.first_poll_at,
        "updates_planned": args.users * args.rounds * len(steps),
        "updates_handled": tally.handled,
        "wrong_replies": tally.wrong,
        "failures": tally.failures[:10],
        "failure_count": len(tally.failures),
        "wall_s": (tally.finished_at or load_end) - tally.started_at,
        "load_s": load_end - tally.started_at,  # until the last user gave up, if any did
        "p50_ms": _ms(_quantile(tally.latencies, 0.50)),
        "p99_ms": _ms(_quantile(tally.latencies, 0.99)),
        "max_ms": _ms(max(tally.latencies, default=None)),
        "fetch_p50_ms": _ms(_quantile(tally.fetch_delays, 0.50)),
        "fetch_p99_ms": _ms(_quantile(tally.fetch_delays, 0.99)),
        "p50_by_step_ms": {name: _ms(value) for name, value in p50.items()},
        "bot_cpu_s": bot_cpu,
        "emulator_cpu_s": own_cpu,
        # anything else running (another test suite...) or stolen by the host: noise
        "other_cpu_s": machine - own_cpu - (bot_cpu or 0.0),
        # replies (sendMessage, answerCallbackQuery...) apart from the polls that fetch updates
        "reply_calls": len(emulator.calls) - calls_before - (emulator.polls - polls_before),
        "polls": emulator.polls - polls_before,
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--startup-timeout", type=float, default=20.0)
    parser.add_argument("--load-timeout", type=float, default=60.0)
    parser.add_argument("--step-timeout", type=float, default=10.0)
    parser.add_argument("--linger", type=float, default=30.0)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()

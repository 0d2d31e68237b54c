"""The Bot API emulator and the simulated users, in a process of their own.

Run by `benchmarks/interactive.py` and `benchmarks/reporting.py` (through
`benchmarks/phases.py`), never by hand. It lives apart from the bot so that the load generator
and the emulator's HTTP server do not take CPU from the bot's event loop: the bot under test is
a separate `run_bot.py` (or `bare_ptb_bot.py`, `bare_ptb_conversation.py`) process started by
the caller. The other benchmarks' emulator processes (`bulk_emulator.py`, `memory.py --serve`)
reuse its `TimedEmulator` and `serve_load` with loads of their own.

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

Two kinds of scenario: in the interactive ones (``kibaru``, ``bare``), ``--rounds`` new users
follow one another on each slot. The ones with a SETUP (``kibaru-report``, ``bare-report``) keep
one user per slot: every user first plays the setup steps once (onboarding), all users at once
and outside the measured window, then plays the scenario ``--rounds`` times in a row.

It hooks two private methods of the tests' emulator (`_get_updates`, `_bot_message`): if they
change shape, this file is the one to adapt.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tests.bot_api_emulator import BotApiEmulator, SimUser

FIRST_USER_ID = 700_000_000


@dataclass(frozen=True)
class Step:
    """One thing a user does, how many messages the bot answers, and what the last one says."""

    kind: str  # "text" (also commands), "press" (an inline button, by label) or "location"
    value: str  # the text, the button's label, or "latitude,longitude"
    replies: int
    expect: str  # a substring of the last reply; "" checks only that it carries buttons
    first: str = ""  # a substring of the first reply, when the step expects several
    keyboard: str = "inline"  # what the last reply carries: "inline" buttons or a reply "keyboard"


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
    # Kibaru's whole incident report, as a French user (texts read off a run of the real bot);
    # 11 updates, 12 messages: the location is answered with two (keyboard removal, question).
    "kibaru-report": (
        Step("text", "/signaler", 1, "Choisissez le type d'incident"),
        Step("press", "🔫 Attaque armée", 1, "Quand est-ce arrivé ?"),
        Step("press", "Hier", 1, "À quelle heure, à peu près ?"),
        Step("press", "Le soir", 1, "Où est-ce arrivé ?", keyboard="keyboard"),
        Step("location", "12.6392,-8.0029", 2, "préciser le lieu", first="📍 Position reçue."),
        Step("press", "⏭️ Passer", 1, "Racontez ce qui s'est passé"),
        Step("text", "Des hommes armés ont attaqué le marché", 1, "Y a-t-il des personnes"),
        Step("press", "Non, personne", 1, "Avez-vous des photos"),
        Step("press", "⏭️ Passer", 1, "Les analystes peuvent-ils vous recontacter ?"),
        Step("press", "🙈 Rester anonyme", 1, "Tout est juste ?"),
        Step("press", "✅ Envoyer", 1, "Que voulez-vous faire ?", first="ML-"),
    ),
    # The same 11 updates of the same kinds (2 texts, 8 presses, 1 location) through the bare
    # 4-state ConversationHandler of `benchmarks/bare_ptb_conversation.py`: one message each.
    "bare-report": (
        Step("text", "/report", 1, "Choose a category"),
        Step("press", "Armed attack", 1, "When did it happen?"),
        Step("press", "Yesterday", 1, "At what time, roughly?"),
        Step("press", "Evening", 1, "Where did it happen?"),
        Step("location", "12.6392,-8.0029", 1, "Any detail about the place?"),
        Step("press", "Skip", 1, "Tell what happened"),
        Step("text", "Armed men attacked the market", 1, "Were people hurt?"),
        Step("press", "No one", 1, "Any photos or files?"),
        Step("press", "Skip", 1, "May analysts contact you?"),
        Step("press", "Stay anonymous", 1, "All correct?"),
        Step("press", "Send", 1, "BARE-"),
    ),
}

# Played once by each user before the measured load (see the module's docstring).
SETUP: dict[str, tuple[Step, ...]] = {
    "kibaru-report": (
        Step("text", "/start", 1, "Bienvenue sur Kibaru"),
        Step("press", "Français", 1, "Que voulez-vous faire ?"),
    ),
    "bare-report": (
        Step("text", "/start", 1, "Choose your language"),
        Step("press", "Français", 1, "What would you like to do?"),
    ),
}


@dataclass
class Inbox:
    """What one chat received: lets its user wait for exactly the replies it expects."""

    received: int = 0
    target: int = 0
    first_at: float | None = None
    last_at: float = 0.0
    first_message: dict[str, Any] = field(default_factory=dict)  # of the current step
    last_message: dict[str, Any] = field(default_factory=dict)
    last_markup: dict[str, Any] = field(default_factory=dict)  # any kind, as sent by the bot
    waiter: asyncio.Future[None] | None = None

    def expect(self, count: int) -> asyncio.Future[None]:
        """Arm for the next update: resolve once ``count`` more messages have arrived."""
        self.target = self.received + count
        self.first_at = None
        self.waiter = asyncio.get_running_loop().create_future()
        return self.waiter

    def receive(self, message: dict[str, Any], now: float, markup: Any = None) -> None:
        self.received += 1
        self.last_at = now
        self.last_message = message
        # the stored message keeps inline keyboards only; reply keyboards are checked here
        self.last_markup = markup if isinstance(markup, dict) else {}
        if self.first_at is None:
            self.first_at = now
            self.first_message = message
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
            inbox.receive(message, time.monotonic(), params.get("reply_markup"))
        return message


@dataclass
class Tally:
    """Results of the whole load, filled in by every simulated user."""

    latencies: list[float] = field(default_factory=list)
    fetch_delays: list[float] = field(default_factory=list)  # queued -> handed to the bot
    by_step: dict[str, list[float]] = field(default_factory=dict)
    handled: int = 0
    wrong: int = 0
    runs: int = 0  # scenarios played to the end with every reply right
    failures: list[str] = field(default_factory=list)
    started_at: float = 0.0
    finished_at: float = 0.0


def _check(step: Step, inbox: Inbox) -> bool:
    """Whether the step's replies are the ones the scenario expects (not an error apology)."""
    message = inbox.last_message
    if step.keyboard == "keyboard":
        if not inbox.last_markup.get("keyboard"):
            return False
    elif not message.get("reply_markup", {}).get("inline_keyboard"):
        return False
    if step.first and step.first not in inbox.first_message.get("text", ""):
        return False
    return step.expect in message.get("text", "")


def _step_keys(steps: tuple[Step, ...]) -> list[str]:
    """A name per step for the per-step figures; a repeated value gets its rank ("Skip #2")."""
    keys: list[str] = []
    seen: dict[str, int] = {}
    for step in steps:
        name = step.value if step.kind != "location" else f"📍 {step.value}"
        seen[name] = seen.get(name, 0) + 1
        keys.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return keys


async def _send(user: SimUser, step: Step) -> int:
    if step.kind == "press":
        return await user.press(step.value)
    if step.kind == "location":
        latitude, longitude = (float(part) for part in step.value.split(","))
        return await user.send_location(latitude, longitude)
    return await user.send_text(step.value)


async def _one_user(
    emulator: TimedEmulator,
    user_id: int,
    steps: tuple[Step, ...],
    step_timeout: float,
    t: Tally,
    think: float = 0.0,
) -> bool:
    """Play the scenario once as this user, pausing about ``think`` seconds before each step
    (a person reading and typing: 0.5 to 1.5 times it, drawn from a generator seeded with the
    user's id, so that users do not tap in step and runs repeat); False if the bot failed to
    answer in time."""
    user = emulator.user(user_id, "Awa", "fr")
    inbox = emulator.inboxes.setdefault(user_id, Inbox())
    wrong_before = t.wrong
    pace = random.Random(user_id * 100_000 + inbox.received)  # new draws each round
    for step, key in zip(steps, _step_keys(steps), strict=True):
        if think > 0:
            await asyncio.sleep(think * pace.uniform(0.5, 1.5))
        done = inbox.expect(step.replies)
        queued_at = time.monotonic()
        update_id = await _send(user, step)
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
        t.by_step.setdefault(key, []).append(latency)
        t.handled += 1
        t.finished_at = max(t.finished_at, inbox.last_at)
        if not _check(step, inbox):
            t.wrong += 1
            if t.wrong <= 3:
                text = inbox.last_message.get("text", "")[:80]
                t.failures.append(f"user {user_id}: unexpected reply to {step.value!r}: {text!r}")
    if t.wrong == wrong_before:
        t.runs += 1
    return True


async def _slot(
    emulator: TimedEmulator,
    slot: int,
    users: int,
    rounds: int,
    steps: tuple[Step, ...],
    step_timeout: float,
    tally: Tally,
    same_user: bool = False,
    think: float = 0.0,
) -> None:
    """One simulated person at a time on this slot: ``rounds`` new users one after another,
    or (``same_user``) one user playing the scenario ``rounds`` times."""
    for round_ in range(rounds):
        user_id = FIRST_USER_ID + slot if same_user else FIRST_USER_ID + round_ * users + slot
        try:
            if not await _one_user(emulator, user_id, steps, step_timeout, tally, think):
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


def _threads_cpu_seconds(pid: int) -> float | None:
    """CPU time of a process's threads other than its main one (e.g. aiosqlite's), from /proc;
    threads that ended meanwhile are not counted."""
    total = 0.0
    try:
        tasks = [int(tid) for tid in os.listdir(f"/proc/{pid}/task") if int(tid) != pid]
    except OSError:
        return None
    for tid in tasks:
        with contextlib.suppress(OSError):
            with open(f"/proc/{pid}/task/{tid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _machine_busy_seconds() -> float:
    """CPU time all processes used, plus time the hypervisor stole, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def quantile(values: list[float], q: float) -> float | None:
    """Nearest-rank quantile (no interpolation: p99 of 100 samples is the 99th)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q * len(ordered) + 0.5)))
    return ordered[rank - 1]


async def stdin_reader() -> asyncio.StreamReader:
    """stdin as an asyncio stream (a thread blocked in readline would outlive a timeout)."""
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


async def serve_load(
    emulator: TimedEmulator,
    load: Callable[[int], Awaitable[dict[str, Any]]],
    startup_timeout: float,
    linger: float = 30.0,
) -> None:
    """Start the emulator, wait for the bot's first poll, run ``load(bot_pid)``, report its
    figures, then idle until the caller closes stdin (the bot may still call the API while
    it shuts down, and the caller reads its memory first). Any load of any benchmark."""
    control = await stdin_reader()
    await emulator.start()
    try:
        emit({"event": "ready", "base_url": emulator.base_url, "token": emulator.token})
        try:
            async with asyncio.timeout(startup_timeout):
                hello = json.loads(await control.readline() or "{}")
                await emulator.first_poll.wait()
        except TimeoutError:
            emit({"event": "result", "error": f"no getUpdates within {startup_timeout} s"})
            return
        emit({"event": "result", **await load(int(hello.get("bot_pid", 0)))})
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(linger):
                while await control.readline():
                    pass
    finally:
        await emulator.stop()


async def serve(args: argparse.Namespace) -> None:
    """The chat scenarios of `interactive.py` and `reporting.py`."""
    emulator = TimedEmulator()
    await serve_load(
        emulator, lambda bot_pid: _load(emulator, bot_pid, args), args.startup_timeout, args.linger
    )


async def _setup(
    emulator: TimedEmulator, steps: tuple[Step, ...], args: argparse.Namespace
) -> dict[str, Any]:
    """Every user plays the setup steps once, all at once, before the measured window."""
    tally = Tally()
    tally.started_at = time.monotonic()
    tasks = [
        asyncio.create_task(
            _slot(emulator, slot, args.users, 1, steps, args.step_timeout, tally, same_user=True)
        )
        for slot in range(args.users)
    ]
    _, pending = await asyncio.wait(tasks, timeout=args.setup_timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if pending:
        tally.failures.append(f"setup not finished within {args.setup_timeout} s")
    return {
        "setup_s": round(time.monotonic() - tally.started_at, 3),
        "setup_updates": tally.handled,
        "setup_ok": tally.runs == args.users and not pending,
        "setup_failures": [f"setup: {failure}" for failure in tally.failures[:5]],
    }


async def _load(emulator: TimedEmulator, bot_pid: int, args: argparse.Namespace) -> dict[str, Any]:
    """All users at once; the figures of the load window only (start-up and setup excluded)."""
    steps = SCENARIOS[args.scenario]
    setup: dict[str, Any] = {}
    if args.scenario in SETUP:
        setup = await _setup(emulator, SETUP[args.scenario], args)
        if not setup["setup_ok"]:
            return {"error": "; ".join(setup["setup_failures"]) or "setup failed", **setup}
    same_user = args.scenario in SETUP
    tally = Tally()
    bot_cpu_before = _cpu_seconds(bot_pid) if bot_pid else None
    threads_before = _threads_cpu_seconds(bot_pid) if bot_pid else None
    own_cpu_before = time.process_time()
    machine_before = _machine_busy_seconds()
    calls_before = len(emulator.calls)
    polls_before = emulator.polls
    tally.started_at = time.monotonic()
    tasks = [
        asyncio.create_task(
            _slot(
                emulator,
                slot,
                args.users,
                args.rounds,
                steps,
                args.step_timeout,
                tally,
                same_user,
                args.think,
            )
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
    threads_after = _threads_cpu_seconds(bot_pid) if bot_pid else None
    own_cpu = time.process_time() - own_cpu_before
    machine = _machine_busy_seconds() - machine_before
    bot_cpu = (
        bot_cpu_after - bot_cpu_before
        if bot_cpu_before is not None and bot_cpu_after is not None
        else None
    )
    p50 = {name: quantile(values, 0.5) for name, values in tally.by_step.items()}
    return {
        "first_poll_at": emulator.first_poll_at,
        "updates_planned": args.users * args.rounds * len(steps),
        "updates_handled": tally.handled,
        "wrong_replies": tally.wrong,
        "runs_planned": args.users * args.rounds,
        "runs_completed": tally.runs,  # scenarios played to the end with every reply right
        **setup,
        "failures": tally.failures[:10],
        "failure_count": len(tally.failures),
        "wall_s": (tally.finished_at or load_end) - tally.started_at,
        "load_s": load_end - tally.started_at,  # until the last user gave up, if any did
        "p50_ms": _ms(quantile(tally.latencies, 0.50)),
        "p99_ms": _ms(quantile(tally.latencies, 0.99)),
        "max_ms": _ms(max(tally.latencies, default=None)),
        "fetch_p50_ms": _ms(quantile(tally.fetch_delays, 0.50)),
        "fetch_p99_ms": _ms(quantile(tally.fetch_delays, 0.99)),
        "p50_by_step_ms": {name: _ms(value) for name, value in p50.items()},
        "bot_cpu_s": bot_cpu,
        # of which threads other than the event loop's (aiosqlite runs SQLite and fsync there)
        "bot_threads_cpu_s": (
            threads_after - threads_before
            if threads_before is not None and threads_after is not None
            else None
        ),
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
    parser.add_argument("--setup-timeout", type=float, default=30.0)
    parser.add_argument("--think", type=float, default=0.0, help="pause before each step (s)")
    parser.add_argument("--step-timeout", type=float, default=10.0)
    parser.add_argument("--linger", type=float, default=30.0)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()

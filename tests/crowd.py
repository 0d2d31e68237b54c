"""Many simulated people at once against the Bot API emulator, each waiting for their own
replies and timing them (the stress tests of tests/test_stress_*.py).

`BotApiEmulator.wait_for` re-checks its condition on every call the bot makes, which is fine
for one user and quadratic for fifty: here each chat's messages are collected as they arrive
(`BotApiEmulator.listen`) and only the waiter of that chat is woken.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from tests.bot_api_emulator import BotApiEmulator, SentMessage, SimUser


@dataclass(frozen=True)
class Act:
    """One thing a person does and how many new messages answer it."""

    kind: str  # "text", "press" (an inline button, by label), "location" ("lat,lon"), "photo"
    value: str = ""
    replies: int = 1
    #: a substring the last of those replies must contain ("" checks nothing)
    expect: str = ""
    #: for "press": the message whose button it is (default: the chat's newest with buttons)
    on: SentMessage | None = None


#: a whole incident report as a French user, location pin included: 11 updates, 12 messages
#: (the same script as benchmarks/reporting.py's "kibaru-report")
REPORT = (
    Act("text", "/signaler", 1, "Choisissez le type d'incident"),
    Act("press", "🔫 Attaque armée", 1, "Quand est-ce arrivé ?"),
    Act("press", "Hier", 1, "À quelle heure"),
    Act("press", "Le soir", 1, "Où est-ce arrivé ?"),
    Act("location", "12.6392,-8.0029", 2, "préciser le lieu"),
    Act("press", "⏭️ Passer", 1, "Racontez ce qui s'est passé"),
    Act("text", "Des hommes armés ont attaqué le marché", 1, "Y a-t-il des personnes"),
    Act("press", "Non, personne", 1, "Avez-vous des photos"),
    Act("press", "⏭️ Passer", 1, "recontacter"),
    Act("press", "🙈 Rester anonyme", 1, "Tout est juste ?"),
    Act("press", "✅ Envoyer", 1, "ML-"),
)

ONBOARDING = (
    Act("text", "/start", 1, "Bienvenue sur Kibaru"),
    Act("press", "Français", 1, "Que voulez-vous faire ?"),
)


class Inboxes:
    """Every chat's new messages (not edits), in order, with when each arrived."""

    def __init__(self, emulator: BotApiEmulator) -> None:
        self.emulator = emulator
        self.messages: dict[int, list[SentMessage]] = defaultdict(list)
        self.arrived: dict[int, list[float]] = defaultdict(list)
        self._waiters: dict[int, list[_Waiter]] = defaultdict(list)
        emulator.listen(self._arrive)

    def _arrive(self, message: SentMessage) -> None:
        if message.is_edit:
            return
        chat = message.chat_id
        self.messages[chat].append(message)
        self.arrived[chat].append(time.perf_counter())
        for waiter in list(self._waiters.get(chat, [])):
            if waiter.met(self.messages[chat]):
                self._waiters[chat].remove(waiter)
                if not waiter.future.done():
                    waiter.future.set_result(None)

    async def wait(
        self,
        chat: int,
        count: int,
        timeout: float = 20.0,  # noqa: ASYNC109 - a plain timeout, as the emulator's API
        *,
        needle: str = "",
        start: int = 0,
    ) -> list[SentMessage]:
        """Until `chat` has at least `count` messages and, with a `needle`, one from index
        `start` on containing it (other messages may come in between: alerts, invitations);
        all of them."""
        waiter = _Waiter(count, needle, start, asyncio.get_running_loop().create_future())
        if not waiter.met(self.messages[chat]):
            self._waiters[chat].append(waiter)
            try:
                async with asyncio.timeout(timeout):
                    await waiter.future
            except TimeoutError:
                got = [m.text for m in self.messages[chat][start:]]
                raise AssertionError(
                    self.emulator.describe(
                        f"chat {chat}: {count} messages and {needle!r} expected, got {got}"
                    )
                ) from None
        return self.messages[chat]


@dataclass
class _Waiter:
    count: int
    needle: str
    start: int
    future: asyncio.Future[None]

    def met(self, messages: list[SentMessage]) -> bool:
        if len(messages) < self.count:
            return False
        return not self.needle or any(self.needle in (m.text or "") for m in messages[self.start :])


async def act(user: SimUser, what: Act, question: SentMessage | None = None) -> int:
    """Do it (a press on `what.on`, else on `question`, else on the chat's newest message
    with buttons): the update's id."""
    if what.kind == "text":
        return await user.send_text(what.value)
    if what.kind == "press":
        return await user.press(what.value, what.on or question)
    if what.kind == "location":
        latitude, longitude = (float(part) for part in what.value.split(","))
        return await user.send_location(latitude, longitude)
    if what.kind == "photo":
        return await user.send_photo()
    raise ValueError(f"unknown act {what.kind!r}")


async def play(
    inboxes: Inboxes,
    user: SimUser,
    script: Sequence[Act],
    latencies: list[float] | None = None,
    timeout: float = 20.0,  # noqa: ASYNC109 - a plain timeout, as the emulator's API
) -> list[SentMessage]:
    """Play `script` as `user`, each act once its replies came (and the one saying what the
    act expects, if it does); each act's latency (seconds of real time, from the update
    queued to that reply) appended to `latencies`. The messages received meanwhile."""
    got: list[SentMessage] = []
    chat = user.chat_id
    question: SentMessage | None = None  # the last reply with buttons: the next press's
    for what in script:
        before = len(inboxes.messages[chat])
        started = time.perf_counter()
        await act(user, what, question)
        messages = await inboxes.wait(
            chat, before + what.replies, timeout, needle=what.expect, start=before
        )
        last = before + what.replies - 1
        if what.expect:  # the reply that says it, wherever other messages put it
            last = next(
                i for i in range(before, len(messages)) if what.expect in (messages[i].text or "")
            )
        if latencies is not None:
            latencies.append(inboxes.arrived[chat][last] - started)
        replies = messages[before : last + 1]
        got.extend(replies)
        question = next((m for m in reversed(replies) if m.buttons), question)
    return got


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (share 0.99: p99) of a non-empty sample."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * share)) - 1]

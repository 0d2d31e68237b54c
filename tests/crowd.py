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
        self._waiters: dict[int, list[tuple[int, asyncio.Future[None]]]] = defaultdict(list)
        emulator.listen(self._arrive)

    def _arrive(self, message: SentMessage) -> None:
        if message.is_edit:
            return
        chat = message.chat_id
        self.messages[chat].append(message)
        self.arrived[chat].append(time.perf_counter())
        count = len(self.messages[chat])
        waiting = self._waiters.get(chat, [])
        for wanted, future in [w for w in waiting if w[0] <= count]:
            waiting.remove((wanted, future))
            if not future.done():
                future.set_result(None)

    async def wait(
        self,
        chat: int,
        count: int,
        timeout: float = 20.0,  # noqa: ASYNC109 - a plain timeout, as the emulator's API
    ) -> list[SentMessage]:
        """Until `chat` has at least `count` messages; all of them."""
        if len(self.messages[chat]) < count:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters[chat].append((count, future))
            try:
                async with asyncio.timeout(timeout):
                    await future
            except TimeoutError:
                got = [m.text for m in self.messages[chat]]
                raise AssertionError(
                    self.emulator.describe(f"chat {chat}: {count} messages expected, got {got}")
                ) from None
        return self.messages[chat]


async def act(user: SimUser, what: Act) -> int:
    """Do it: the update's id."""
    if what.kind == "text":
        return await user.send_text(what.value)
    if what.kind == "press":
        return await user.press(what.value)
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
    """Play `script` as `user`, each act once its replies came; each act's latency (seconds
    of real time, from the update queued to its last reply) appended to `latencies`. The
    replies, all checked against the script."""
    got: list[SentMessage] = []
    for what in script:
        before = len(inboxes.messages[user.chat_id])
        started = time.perf_counter()
        await act(user, what)
        replies = (await inboxes.wait(user.chat_id, before + what.replies, timeout))[before:]
        if latencies is not None:
            latencies.append(inboxes.arrived[user.chat_id][before + what.replies - 1] - started)
        last = replies[what.replies - 1]
        if what.expect and what.expect not in (last.text or ""):
            raise AssertionError(f"{user.user_id} after {what}: got {[m.text for m in replies]}")
        got.extend(replies[: what.replies])
    return got


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (share 0.99: p99) of a non-empty sample."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * share)) - 1]

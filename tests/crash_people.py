"""The people of the crash suite (tests/test_crash.py): reporters, CCS-C members and
validators, each playing a script on an emulated phone and checking every answer the bot
gives, while the bot is killed and restarted under them.

A reporter acts, then waits for the answer the script expects: the next question. After a
kill the bot may ask the current question once more (it had committed the step, but not yet
confirmed the update to Telegram), so a copy of the question before is tolerated and counted
("asked again"), with a report's receipt on top when the receipt may have died with the
process; what the outbox pushes (notices about one's reports, alerts, announcements) is set
aside; anything else is an anomaly, and the suite fails on anomalies.
People never re-type an answer they got no reply to (Telegram keeps the update until the bot
confirms it), but some are impatient and tap the same button again, as people do.

Members and validators react to what is on their screen: a member taps an answer of the
invitation, a validator validates the review posts that reach them.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.bot_api_emulator import SentMessage, SimUser

#: how long anyone waits for an answer before calling it lost (restarts included)
REPLY_TIMEOUT = 45.0
#: an impatient person taps the same button again after this long without an answer
PATIENCE = 3.0
#: when reporters start (s): the first ones are done with a report while others begin
STAGGER = (0.0, 40.0)
MENU = "Que voulez-vous faire ?"
REFERENCE = re.compile(r"ML-\d{4}-\d{6}")
RECEIPT = "Signalement reçu"
INVITATION = "📨 Invitation"
REMINDER = "⏰ Rappel"
REVIEW_BUTTON = "✅ Valider"
#: what a reporter hears later about their reports (validated, rejected, duplicate)
REPORT_NOTICE = "Votre signalement ML-"
ALERT = "Kibaru, alerte précoce"  # the signature of every alert
ANNOUNCEMENT = "📣 Annonce"
#: what the outbox may push to a reporter at any moment
PUSHES = (REPORT_NOTICE, ALERT, ANNOUNCEMENT)
RSVP_LABELS = {"yes": "Je viendrai", "maybe": "Peut-être", "no": "Je ne peux pas"}


@dataclass(frozen=True)
class Act:
    """One thing a person does, and what the bot must answer."""

    kind: str  # "text", "press", "location" or "photo"
    value: str  # the text, the button's label, or "latitude,longitude"
    expect: str  # in the answer's last message: the next question
    step: str  # "flow:step" the conversation holds once the act is handled
    preface: str = ""  # in a message the answer may carry first (a keyboard removed)


ONBOARDING = (
    Act("text", "/start", "Choisissez votre langue", "welcome:choose"),
    Act("press", "Français", MENU, "menu:main"),
)

#: where it happened: a pin in Bamako (no region: nobody reviews it in this suite), or
#: Mopti typed then a cercle picked (reviewed by the Mopti validators)
_PIN = (Act("location", "12.6392,-8.0029", "préciser le lieu", "report:place_detail", "Position"),)
_MOPTI = (
    Act("text", "Mopti", "Dans quel cercle", "report:cercle", "Région : Mopti"),
    Act("press", "Djenné", "préciser le lieu", "report:place_detail"),
)


#: a photo as evidence: kept as a draft's file, downloaded in the background
_PHOTO = (
    Act("photo", "", "1 fichier reçu", "report:evidence"),
    Act("press", "Terminé", "recontacter", "report:contact"),
)
_NO_PHOTO = (Act("press", "Passer", "recontacter", "report:contact"),)


def report_acts(in_mopti: bool, with_photo: bool) -> tuple[Act, ...]:
    """A whole report, anonymous, confirmed with "Envoyer" (the last act)."""
    return (
        Act("text", "/signaler", "Choisissez le type d'incident", "report:category"),
        Act("press", "Attaque armée", "Quand est-ce arrivé ?", "report:when"),
        Act("press", "Hier", "À quelle heure", "report:time"),
        Act("press", "Le soir", "Où est-ce arrivé ?", "report:where"),
        *(_MOPTI if in_mopti else _PIN),
        Act("press", "Passer", "Racontez ce qui s'est passé", "report:what"),
        Act(
            "text",
            "Des hommes armés ont attaqué le marché",
            "Y a-t-il des personnes",
            "report:people",
        ),
        Act("press", "Non, personne", "Avez-vous des photos", "report:evidence"),
        *(_PHOTO if with_photo else _NO_PHOTO),
        Act("press", "Rester anonyme", "Votre signalement :", "report:summary"),
        Act("press", "Envoyer", MENU, "menu:main"),
    )


@dataclass
class World:
    """What the people share: how long they take to answer, whether the load is winding
    down, and what went wrong or was noticed."""

    think: tuple[float, float]
    stopping: bool = False  # reporters and members finish what they do, and stop
    reviews_over: bool = False  # every review post is delivered: validators finish theirs
    anomalies: list[str] = field(default_factory=list)
    asked_again: int = 0  # questions asked once more after a restart (or a repeated tap)
    repeated_taps: int = 0

    def pause(self, rng: random.Random) -> float:
        """A person's time to read and answer; short once the load winds down."""
        low, high = self.think
        return rng.uniform(0.02, 0.1) if self.stopping else rng.uniform(low, high)

    def anomaly(self, who: Person, what: str) -> None:
        self.anomalies.append(f"{type(who).__name__} {who.user.user_id}: {what}")


class Phone:
    """The messages that reach one chat, in order (the emulator hands them over)."""

    def __init__(self, user: SimUser) -> None:
        self.user = user
        self.inbox: deque[SentMessage] = deque()
        self._arrived = asyncio.Event()

    def arrived(self, message: SentMessage) -> None:
        self.inbox.append(message)
        self._arrived.set()

    async def next(self) -> SentMessage:
        while not self.inbox:
            self._arrived.clear()
            await self._arrived.wait()
        return self.inbox.popleft()


class Person(ABC):
    """Someone on a phone, playing their part to the end: an answer that never comes or a
    button missing from the screen is recorded as an anomaly (the suite fails on it) rather
    than stopping everyone else."""

    def __init__(self, world: World, phone: Phone, rng: random.Random) -> None:
        self.world = world
        self.phone = phone
        self.user = phone.user
        self.rng = rng
        self.finished = False

    async def think(self) -> None:
        await asyncio.sleep(self.world.pause(self.rng))

    async def perform(self, act: Act, on: SentMessage | None) -> None:
        if act.kind == "text":
            await self.user.send_text(act.value)
        elif act.kind == "photo":
            await self.user.send_photo()
        elif act.kind == "location":
            latitude, longitude = (float(x) for x in act.value.split(","))
            await self.user.send_location(latitude, longitude)
        else:
            await self.user.press(act.value, message=on)

    async def run(self) -> None:
        try:
            await self.play()
            self.finished = True
        except TimeoutError:
            self.world.anomaly(self, f"no answer within {REPLY_TIMEOUT:.0f} s")
        except AssertionError as error:  # a button missing from the screen
            self.world.anomaly(self, str(error).splitlines()[0])

    @abstractmethod
    async def play(self) -> None: ...


class Reporter(Person):
    """Onboarding, then one report after another until the load winds down."""

    def __init__(
        self,
        world: World,
        phone: Phone,
        rng: random.Random,
        *,
        in_mopti: bool,
        with_photo: bool,
        impatient: bool,
    ) -> None:
        super().__init__(world, phone, rng)
        self.report = report_acts(in_mopti, with_photo)
        self.impatient = impatient
        #: every act sent, and how many of them were answered: the conversation's step in the
        #: database is the step of the last act answered, or of the one sent after it
        self.acts: list[Act] = []
        self.answered = 0
        self.sent_reports = 0  # "Envoyer" taps: each must become exactly one report
        self.photos = 0  # photos the bot acknowledged: each must be kept, and downloaded
        #: references of the receipts read (with the answer to "Envoyer", or said again on top
        #: of a question asked again after a restart)
        self.receipts: set[str] = set()

    @property
    def step(self) -> str | None:
        """The step of the last act answered."""
        return self.acts[self.answered - 1].step if self.answered else None

    def possible_steps(self) -> set[str | None]:
        """The steps the database may hold for this person right now."""
        steps = {self.step}
        if len(self.acts) > self.answered:
            steps.add(self.acts[self.answered].step)
        return steps

    @property
    def waiting(self) -> bool:
        return len(self.acts) > self.answered

    async def play(self) -> None:
        await asyncio.sleep(self.rng.uniform(*STAGGER))  # not everyone hears the rumour at once
        screen = await self.script(ONBOARDING, None)
        while not self.world.stopping:
            screen = await self.script(self.report, screen)

    async def script(self, acts: tuple[Act, ...], screen: SentMessage | None) -> SentMessage | None:
        """Play the acts, or stop before the next one once the load winds down (a report may
        stay half done: its draft must then be there)."""
        before = self.acts[-1].expect if self.acts else ""
        for act in acts:
            if self.world.stopping:
                break
            await self.think()
            screen = await self.exchange(act, screen, before)
            before = act.expect
        return screen

    async def exchange(self, act: Act, screen: SentMessage | None, before: str) -> SentMessage:
        """Do the act, then read until its answer: the message that carries the next question."""
        self.acts.append(act)
        await self.perform(act, screen)
        if act.value == "Envoyer":
            self.sent_reports += 1
        tapped_again = not (self.impatient and act.kind == "press")
        async with asyncio.timeout(REPLY_TIMEOUT):
            while True:
                try:
                    message = await asyncio.wait_for(self.phone.next(), PATIENCE)
                except TimeoutError:
                    if not tapped_again:  # nothing yet: tap it again, as people do
                        tapped_again = True
                        self.world.repeated_taps += 1
                        await self.perform(act, screen)
                    continue
                text = message.text or ""
                if RECEIPT in text:
                    self.receipts.update(REFERENCE.findall(text))
                if act.expect in text:
                    break
                if any(push in text for push in PUSHES) or (act.preface and act.preface in text):
                    continue
                if before and before in text:
                    self.world.asked_again += 1
                    continue
                self.world.anomaly(self, f"after {act.value!r}, unexpected: {text[:80]!r}")
        self.answered += 1
        self.photos += act.kind == "photo"
        return message


class Member(Person):
    """A CCS-C member: waits for the invitation, then answers it once or a few times."""

    def __init__(self, world: World, phone: Phone, rng: random.Random) -> None:
        super().__init__(world, phone, rng)
        self.answers = [rng.choice(list(RSVP_LABELS)) for _ in range(rng.randint(1, 3))]
        self.last_answer: str | None = None

    async def play(self) -> None:
        async with asyncio.timeout(REPLY_TIMEOUT * 2):  # the invitations go out at 30/s
            invitation = await self.wait_for(lambda text: INVITATION in text)
        for answer in self.answers:
            await self.think()
            await self.user.press(RSVP_LABELS[answer], message=invitation)
            self.last_answer = answer
            async with asyncio.timeout(REPLY_TIMEOUT):
                await self.wait_for(lambda text: MENU in text)

    async def wait_for(self, wanted: Callable[[str], bool]) -> SentMessage:
        """The next message that `wanted` accepts; invitations, reminders and copies of the
        menu (asked again after a restart) may come before it."""
        while True:
            message = await self.phone.next()
            text = message.text or ""
            if wanted(text):
                return message
            if not any(push in text for push in (INVITATION, REMINDER, ALERT, MENU)):
                self.world.anomaly(self, f"unexpected: {text[:80]!r}")


class Validator(Person):
    """Validates the review posts that reach them, one at a time, by reacting to the
    question on screen: a question asked again (after a restart) is simply answered again."""

    #: what is on screen -> the button to tap
    ANSWERS = (
        ("Quelle gravité", "vigilance"),
        ("Qui reçoit cette alerte", "abonnés"),
        ("résumé public", "Passer"),
    )

    def __init__(self, world: World, phone: Phone, rng: random.Random) -> None:
        super().__init__(world, phone, rng)
        self.posts: deque[SentMessage] = deque()
        self.validated: list[str] = []  # references this validator was told they validated
        self.decided_by_others = 0
        self.alerts = 0  # alerts received (validators are staff: every alert of their scope)
        #: the question on screen; None at the menu (or while waiting for an answer)
        self.screen: SentMessage | None = None
        self.busy = False  # tapped, and the decision is not over

    async def play(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REPLY_TIMEOUT
        while True:
            while self.phone.inbox:
                self.read(self.phone.inbox.popleft())
            if self.screen is not None or (not self.busy and self.posts):
                await self.think()
                if self.phone.inbox:  # something came meanwhile: read it first
                    continue
                await self.tap()
                deadline = loop.time() + REPLY_TIMEOUT
                continue
            if not self.busy and self.world.reviews_over:
                return
            if self.busy and loop.time() > deadline:
                raise TimeoutError
            with contextlib.suppress(TimeoutError):
                self.read(await asyncio.wait_for(self.phone.next(), 0.5))

    async def tap(self) -> None:
        if self.screen is None:
            await self.user.press(REVIEW_BUTTON, message=self.posts.popleft())
        else:
            text = self.screen.text or ""
            label = next(tap for seen, tap in self.ANSWERS if seen in text)
            await self.user.press(label, message=self.screen)
            self.screen = None
        self.busy = True

    def read(self, message: SentMessage) -> None:
        text = message.text or ""
        if REVIEW_BUTTON in message.button_labels:
            self.posts.append(message)
        elif ALERT in text:
            self.alerts += 1
        elif any(seen in text for seen, _ in self.ANSWERS):
            self.screen, self.busy = message, True
        elif "validé (" in text:
            self.validated += REFERENCE.findall(text)[:1]
        elif "a déjà été traité" in text:
            self.decided_by_others += 1
        elif MENU in text:
            self.screen, self.busy = None, False
        else:
            self.world.anomaly(self, f"unexpected: {text[:80]!r}")

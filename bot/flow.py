"""The building blocks of a conversation: flows made of steps, and what a step may answer.

A flow (onboarding, report, RSVP...) is a list of steps. The engine asks a step's question,
hands the user's next event to that same step, and follows the transition it returns. Steps
never touch a channel and never store state in memory: what they learn goes into
`turn.answers` (saved with the step) or into the database through `turn.conn`, inside the
same transaction as the conversation state.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.i18n import Translator
from bot.inbound import ChoiceEvent, InboundEvent, MediaEvent, TextEvent
from bot.matching import match_option, normalize
from bot.outbound import Button, Message, Question

if TYPE_CHECKING:
    from bot.settings import Settings
    from storage.database import Connection
    from storage.users import User


# --- transitions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Goto:
    """Move to another step of the same flow (the current one is remembered for "back")."""

    step: str


@dataclass(frozen=True)
class Retry:
    """Stay on this step: say why (already translated), then ask the same question again."""

    reason: str | None = None


@dataclass(frozen=True)
class Finish:
    """This flow is over; the flow below it (at least the main menu) asks its question again."""


@dataclass(frozen=True)
class Begin:
    """Start another flow on top of this one; when it finishes, this step is asked again."""

    flow: str
    #: answers the new flow starts with (e.g. which report a validator is deciding on)
    answers: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Silence:
    """Nothing more to ask now (e.g. after the user's data was deleted)."""


Transition = Goto | Retry | Finish | Begin | Silence


# --- the turn ----------------------------------------------------------------------------------


@dataclass
class Turn:
    """What one step sees while handling one event of one user."""

    user: User
    t: Translator
    conn: Connection
    now: datetime
    settings: Settings
    answers: dict[str, Any]
    #: messages to send before the next question
    out: list[Message] = field(default_factory=list)
    #: short notes merged at the top of the next question (one message instead of two)
    notes: list[str] = field(default_factory=list)
    #: set when the user's data was deleted: nothing may be saved for them any more
    forgotten: bool = False
    #: set when the user changed language during this turn
    language_changed: bool = False
    #: local files to remove once the transaction that forgot them has committed
    files_to_delete: list[str] = field(default_factory=list)
    #: the translator for another person's language (None: the default language), to tell
    #: them something through the outbox
    translator_for: Callable[[str | None], Translator] | None = None

    def say(self, text: str) -> None:
        self.out.append(Message(text))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def translator(self, language: str | None) -> Translator:
        return self.translator_for(language) if self.translator_for else self.t


# --- steps -------------------------------------------------------------------------------------


class Step(ABC):
    """One question of a flow."""

    #: set by the flow
    name: str = ""
    #: show "back" and "cancel" buttons with the question
    navigation: bool = True

    async def enter(self, turn: Turn) -> Goto | Finish | None:
        """Before asking: a step that does not apply (no draft to resume, a time already
        known...) sends the user on with `Goto` or ends the flow with `Finish`; the skipped
        step is not remembered for "back"."""
        return None

    @abstractmethod
    async def ask(self, turn: Turn) -> Message:
        """The question, in the user's language."""

    @abstractmethod
    async def answer(self, turn: Turn, event: InboundEvent) -> Transition:
        """What to do with the user's event; unusable input gets a `Retry` with the reason."""


@dataclass(frozen=True)
class Option:
    key: str
    label: str
    #: other words a user may type for it (in any language), e.g. "bambara"
    aliases: tuple[str, ...] = ()


class ChoiceStep(Step):
    """A question answered by a tap, the option's number, or its label typed."""

    columns: int = 1

    @abstractmethod
    async def question(self, turn: Turn) -> str: ...

    @abstractmethod
    async def options(self, turn: Turn) -> Sequence[Option]: ...

    @abstractmethod
    async def chosen(self, turn: Turn, key: str) -> Transition: ...

    async def ask(self, turn: Turn) -> Message:
        options = await self.options(turn)
        return Question(
            await self.question(turn),
            choices=tuple(Button(o.key, o.label) for o in options),
            columns=self.columns,
        )

    async def answer(self, turn: Turn, event: InboundEvent) -> Transition:
        options = await self.options(turn)
        key: str | None = None
        if isinstance(event, ChoiceEvent):
            key = event.key if any(o.key == event.key for o in options) else None
            if key is None:
                return Retry(turn.t._("Ce bouton n'est plus valable. Choisissez à nouveau :"))
        elif isinstance(event, TextEvent):
            key = match_option(event.text, options)
            if key is None:
                return Retry(
                    turn.t._(
                        "Je n'ai pas compris « {answer} ». Touchez un bouton ou tapez son "
                        "numéro (1 à {last}).",
                        answer=_shorten(event.text),
                        last=turn.t.number(len(options)),
                    )
                )
        else:
            return Retry(
                turn.t._("Pour cette question, touchez un bouton ou tapez le numéro d'un choix.")
            )
        return await self.chosen(turn, key)


SKIP = "_skip"


class TextStep(Step):
    """A question answered by typing; `optional` adds a "skip" button (or the word typed)."""

    optional: bool = False
    #: fewer words than this is refused with a reason (a description needs a few words)
    min_words: int = 0

    @abstractmethod
    async def question(self, turn: Turn) -> str: ...

    @abstractmethod
    async def typed(self, turn: Turn, text: str) -> Transition: ...

    async def skipped(self, turn: Turn) -> Transition:
        raise NotImplementedError("an optional step must say where skipping leads")

    async def media(self, turn: Turn, event: MediaEvent) -> Transition:
        """A voice note, photo... where text was asked: refused unless the step takes it."""
        return Retry(turn.t._("Pour cette question, écrivez votre réponse."))

    def _skip_label(self, turn: Turn) -> str:
        return turn.t._("⏭️ Passer")

    async def ask(self, turn: Turn) -> Message:
        skip = (Button(SKIP, self._skip_label(turn)),) if self.optional else ()
        return Question(await self.question(turn), choices=skip, numbered=False)

    async def answer(self, turn: Turn, event: InboundEvent) -> Transition:
        if isinstance(event, ChoiceEvent):
            if self.optional and event.key == SKIP:
                return await self.skipped(turn)
            return Retry(turn.t._("Ce bouton n'est plus valable. Choisissez à nouveau :"))
        if isinstance(event, MediaEvent):
            return await self.media(turn, event)
        if not isinstance(event, TextEvent):
            return Retry(turn.t._("Pour cette question, écrivez votre réponse."))
        text = " ".join(event.text.split())
        if self.optional and normalize(text) in {
            normalize(self._skip_label(turn)),
            "passer",
            "skip",
        }:
            return await self.skipped(turn)
        if not text:
            return Retry(turn.t._("Pour cette question, écrivez votre réponse."))
        if len(text.split()) < self.min_words:
            return Retry(
                turn.t.ngettext(
                    "Écrivez au moins {n} mot, s'il vous plaît.",
                    "Écrivez au moins {n} mots, s'il vous plaît.",
                    self.min_words,
                )
            )
        return await self.typed(turn, text)


def _shorten(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Flow:
    """A named sequence of steps; the first one is where the flow starts."""

    def __init__(self, name: str, steps: Sequence[Step]) -> None:
        if not steps:
            raise ValueError(f"flow {name} has no steps")
        self.name = name
        self.steps: dict[str, Step] = {}
        for step in steps:
            if not step.name:
                raise ValueError(f"a step of flow {name} has no name")
            if step.name in self.steps:
                raise ValueError(f"flow {name} has two steps named {step.name}")
            self.steps[step.name] = step
        self.first = steps[0].name

    def step(self, name: str) -> Step | None:
        return self.steps.get(name)

    async def saved(self, turn: Turn, step: str) -> None:
        """After each event that leaves this flow open at `step`, inside the same transaction:
        where a flow keeps a draft of its own (reports), it saves it here."""

    async def cancelled(self, turn: Turn) -> None:
        """The user cancelled this flow (not merely left it): drop what it kept."""

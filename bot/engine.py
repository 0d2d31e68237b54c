"""The conversation engine: one inbound event in, the replies out, the state saved in between.

For every event the engine opens one database transaction, finds the user and their
conversation, lets global commands (cancel, back, help, language, ...) act at any step or
hands the event to the current step, saves the new state in the same transaction, commits,
and only then returns the replies for the channel to send. A crash before the commit loses
nothing the user was told about; a crash after it is recognised when the channel delivers the
same update again (the current question is simply asked again).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import Clock
from bot.files import remove_files
from bot.flow import Begin, Finish, Flow, Goto, Retry, Silence, Step, Transition, Turn
from bot.i18n import SHIPPED_LANGUAGES, Catalogs, Translator
from bot.inbound import (
    ActionEvent,
    ChatKind,
    ChoiceEvent,
    CommandEvent,
    EditedEvent,
    InboundEvent,
    MalformedChoiceEvent,
    Sender,
    TextEvent,
    UnsupportedEvent,
)
from bot.matching import normalize
from bot.outbound import Button, Message, Question, Request
from bot.settings import Settings
from storage import conversations, users
from storage.conversations import ConversationState, Frame
from storage.database import Database

log = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4000
BACK = "_back"
CANCEL = "_cancel"


@dataclass(frozen=True)
class CommandSpec:
    """A command users can type, with its name in each language (`fr` is the default)."""

    action: str
    names: Mapping[str, str]
    #: French description (marked with N_), shown in help and in the channel's command menu
    description: str
    #: listed in the channel's command menu and in help
    listed: bool = True

    def name_for(self, language: str) -> str:
        return self.names.get(language) or self.names["fr"]


#: what an action button does: checks who tapped it, then says or begins something
Action = Callable[[Turn, ActionEvent], Awaitable[Transition]]
#: what a command with arguments does
CommandHandler = Callable[[Turn, CommandEvent], Awaitable[Transition]]


@dataclass
class Features:
    """What the handlers package provides to the engine: flows, commands and a few texts."""

    flows: dict[str, Flow]
    commands: Sequence[CommandSpec]
    #: action -> flow that implements it; None: announced but not built yet ("coming soon")
    entries: Mapping[str, str | None]
    menu_flow: str
    welcome_flow: str
    language_flow: str
    forget_flow: str
    help_text: Callable[[Translator], str]
    coming_soon: Callable[[Translator], str]
    #: action buttons outside questions (`bot.inbound.ActionEvent`), by name
    actions: Mapping[str, Action] = field(default_factory=dict)
    #: commands that read their arguments (/role 123 validator), by action
    command_handlers: Mapping[str, CommandHandler] = field(default_factory=dict)
    #: a text that acts at any step without leaving it (STOP pauses the alerts): True when it
    #: did (it noted what), and the current question is asked again
    stop_word: Callable[[Turn, str], Awaitable[bool]] | None = None
    #: an update delivered again, after a crash between the commit and the replies (which were
    #: perhaps lost): what the conversation's last turns, saved at this moment, said that
    #: matters may be said again on top of the current question (a report's receipt)
    redelivered: Callable[[Turn, datetime], Awaitable[None]] | None = None

    def command_action(self, name: str) -> str | None:
        wanted = name.lower()
        for spec in self.commands:
            if wanted in spec.names.values():
                return spec.action
        return None


#: actions the engine itself carries out, at any step
GLOBAL_ACTIONS = ("start", "help", "cancel", "back", "menu", "language", "forget")


class Conversations:
    """Runs every flow for every channel."""

    def __init__(
        self,
        db: Database,
        catalogs: Catalogs,
        settings: Settings,
        clock: Clock,
        features: Features,
    ) -> None:
        self.db = db
        self.catalogs = catalogs
        self.settings = settings
        self.clock = clock
        self.features = features

    # -- helpers ----------------------------------------------------------------------------

    def translator_for(self, language: str | None, hint: str | None = None) -> Translator:
        if language:
            return self.catalogs.get(language)
        base = (hint or "").split("-")[0].lower()
        if base in SHIPPED_LANGUAGES:
            return self.catalogs.get(base)
        return self.catalogs.get(self.settings.default_language)

    async def language_of(self, sender: Sender) -> Translator:
        """The translator for a chat, read outside a conversation (error replies)."""
        async with self.db.reading() as conn:
            user = await users.find(conn, sender.channel, sender.chat_id)
        return self.translator_for(user.language if user else None, sender.language_hint)

    def _flow(self, name: str) -> Flow:
        return self.features.flows[name]

    def _step(self, frame: Frame) -> Step:
        flow = self._flow(frame.flow)
        step = flow.step(frame.step)
        if step is None:  # a step renamed or removed by an upgrade: restart that flow
            frame.step = flow.first
            frame.history.clear()
            step = flow.steps[flow.first]
        return step

    def _fresh_state(self) -> ConversationState:
        menu = self._flow(self.features.menu_flow)
        return ConversationState([Frame(menu.name, menu.first)])

    def _push(self, state: ConversationState, flow_name: str) -> None:
        flow = self._flow(flow_name)
        state.frames.append(Frame(flow.name, flow.first))

    # -- the entry point --------------------------------------------------------------------

    async def handle(self, event: InboundEvent) -> list[Message]:
        """Handle one event and return the replies; the state is committed before returning
        (inside `Database.grouped()`, when the group ends: send nothing before that)."""
        sender = event.sender
        if sender.chat_kind is not ChatKind.PRIVATE:
            return self._group_reply(event)
        now = self.clock.now()
        async with self.db.transaction() as conn:
            user, created, state = await conversations.load_for_chat(
                conn, sender.channel, sender.chat_id, now
            )
            first_contact = state is None
            if state is None:
                state = self._fresh_state()
                if created or user.language is None:
                    self._push(state, self.features.welcome_flow)
            self._ensure_valid(state)
            t = self.translator_for(user.language, sender.language_hint)
            turn = Turn(user, t, conn, now, self.settings, state.top.answers)
            turn.translator_for = self.translator_for
            duplicate = (
                event.event_id is not None
                and state.last_event_id is not None
                and event.event_id <= state.last_event_id
            )
            transition: Transition
            if duplicate:
                log.info("event %s delivered again; asking the current question", event.event_id)
                transition = Retry()
                if state.updated_at is not None and self.features.redelivered:
                    await self.features.redelivered(turn, state.updated_at)
            elif first_contact and not isinstance(event, ActionEvent):
                # Whatever the first message says, the first answer is the welcome question.
                transition = Retry()
                state.last_event_id = event.event_id
            else:
                transition = await self._dispatch(turn, state, event)
                if event.event_id is not None:
                    state.last_event_id = event.event_id
            if turn.forgotten:
                log.info("event %s: user data deleted", event.event_id)
                forgotten = True
            else:
                forgotten = False
            if not forgotten:
                question = await self._follow(turn, state, transition)
                if self._in_flow(state):
                    await self._flow(state.top.flow).saved(turn, state.top.step)
                await conversations.save(conn, user.id, state, now)
            files = list(turn.files_to_delete)
            if files:
                self.db.after_commit(lambda: remove_files(files))
        if forgotten:
            return turn.out
        log.debug(
            "event %s kind=%s flow=%s step=%s",
            event.event_id,
            event.kind,
            state.top.flow,
            state.top.step,
        )
        return self._compose(turn, question)

    def _ensure_valid(self, state: ConversationState) -> None:
        """Drop frames of flows that no longer exist (after an upgrade) instead of failing."""
        state.frames = [f for f in state.frames if f.flow in self.features.flows]
        if not state.frames or state.frames[0].flow != self.features.menu_flow:
            state.frames.insert(0, self._fresh_state().frames[0])

    def _group_reply(self, event: InboundEvent) -> list[Message]:
        """In groups the bot stays quiet, except to point a command's author to a private chat."""
        if not isinstance(event, CommandEvent):
            return []
        t = self.translator_for(None, event.sender.language_hint)
        return [
            Message(
                t._(
                    "Je ne réponds qu'en conversation privée, pour protéger ceux qui signalent. "
                    "Ouvrez une discussion privée avec moi et envoyez /start."
                )
            )
        ]

    # -- dispatch ---------------------------------------------------------------------------

    async def _dispatch(
        self, turn: Turn, state: ConversationState, event: InboundEvent
    ) -> Transition:
        t = turn.t
        step = self._step(state.top)
        if isinstance(event, CommandEvent):
            return await self._command(turn, state, event)
        if isinstance(event, ActionEvent):
            act = self.features.actions.get(event.name)
            if act is None:
                turn.note(t._("Ce menu a expiré. Voici la question en cours :"))
                return Retry()
            return await act(turn, event)
        if isinstance(event, EditedEvent):
            turn.note(
                t._(
                    "Vous avez modifié un message : je ne peux pas tenir compte des "
                    "modifications. Envoyez plutôt un nouveau message."
                )
            )
            return Retry()
        if isinstance(event, UnsupportedEvent):
            turn.note(self._unsupported(t, event.what))
            return Retry()
        if isinstance(event, MalformedChoiceEvent):
            turn.note(t._("Ce menu a expiré. Voici la question en cours :"))
            return Retry()
        if isinstance(event, ChoiceEvent):
            if event.prompt != state.prompt:
                turn.note(t._("Ce menu a expiré. Voici la question en cours :"))
                return Retry()
            if event.key == BACK:
                return self._back(turn, state)
            if event.key == CANCEL:
                return await self._cancel(turn, state)
        if isinstance(event, TextEvent):
            if len(event.text) > MAX_TEXT_LENGTH:
                turn.note(
                    t._(
                        "Votre message est trop long ({length} caractères, {limit} au "
                        "maximum). Raccourcissez-le ou envoyez-le en plusieurs parties.",
                        length=t.number(len(event.text)),
                        limit=t.number(MAX_TEXT_LENGTH),
                    )
                )
                return Retry()
            if self.features.stop_word and await self.features.stop_word(turn, event.text):
                return Retry()
            if step.navigation and self._in_flow(state):
                typed = normalize(event.text)
                if typed in self._words(t, BACK):
                    return self._back(turn, state)
                if typed in self._words(t, CANCEL):
                    return await self._cancel(turn, state)
        return await step.answer(turn, event)

    def _in_flow(self, state: ConversationState) -> bool:
        return len(state.frames) > 1

    def _words(self, t: Translator, key: str) -> set[str]:
        if key == BACK:
            return {normalize(self._nav_label(t, BACK)), "retour", "back"}
        return {normalize(self._nav_label(t, CANCEL)), "annuler", "cancel"}

    @staticmethod
    def _nav_label(t: Translator, key: str) -> str:
        return t._("⬅️ Retour") if key == BACK else t._("✖️ Annuler")

    @staticmethod
    def _unsupported(t: Translator, what: str) -> str:
        names = {
            "sticker": t._("un autocollant"),
            "animation": t._("une animation (GIF)"),
            "poll": t._("un sondage"),
            "dice": t._("un dé"),
            "game": t._("un jeu"),
            "story": t._("une story"),
        }
        thing = names.get(what, t._("ce type de message"))
        return t._(
            "Je ne peux pas utiliser {thing}. Répondez avec les boutons ou par un message écrit.",
            thing=thing,
        )

    async def _command(
        self, turn: Turn, state: ConversationState, event: CommandEvent
    ) -> Transition:
        t = turn.t
        action = self.features.command_action(event.name)
        if action is None:
            turn.note(
                t._("Je ne connais pas la commande /{name}.", name=event.name[:32])
                + "\n\n"
                + self.features.help_text(t)
            )
            return Retry()
        if action == "start":
            if turn.user.language is None:
                state.frames = state.frames[:1]
                self._push(state, self.features.welcome_flow)
                return Retry()
            state.frames = state.frames[:1]
            state.top.history.clear()
            turn.note(t._("Bon retour sur Kibaru !"))
            return Retry()
        if action == "help":
            turn.note(self.features.help_text(t))
            return Retry()
        if action == "back":
            return self._back(turn, state)
        if action == "cancel":
            return await self._cancel(turn, state)
        if action == "menu":
            state.frames = state.frames[:1]
            state.top.history.clear()
            return Retry()
        if action == "language":
            return self._begin_once(state, self.features.language_flow)
        if action == "forget":
            return self._begin_once(state, self.features.forget_flow)
        run = self.features.command_handlers.get(action)
        if run is not None:
            return await run(turn, event)
        flow = self.features.entries.get(action)
        if flow is None:
            turn.note(self.features.coming_soon(t))
            return Retry()
        return self._begin_once(state, flow)

    def _begin_once(self, state: ConversationState, flow: str) -> Transition:
        """Start a flow, unless it is already the current one (then ask its question again)."""
        if state.top.flow == flow:
            return Retry()
        return Begin(flow)

    def _back(self, turn: Turn, state: ConversationState) -> Transition:
        frame = state.top
        if frame.history:
            frame.step = frame.history.pop()
            return Retry()
        if self._in_flow(state):
            state.frames.pop()
            return Retry()
        turn.note(turn.t._("Vous êtes déjà au menu principal."))
        return Retry()

    async def _cancel(self, turn: Turn, state: ConversationState) -> Transition:
        if not self._in_flow(state):
            turn.note(turn.t._("Il n'y a rien à annuler."))
            return Retry()
        await self._flow(state.top.flow).cancelled(turn)
        state.frames.pop()
        turn.note(turn.t._("C'est annulé."))
        return Retry()

    # -- transitions ------------------------------------------------------------------------

    async def _follow(
        self, turn: Turn, state: ConversationState, transition: Transition
    ) -> Message | None:
        """Apply a transition and return the next question (None for silence)."""
        if isinstance(transition, Silence):
            return None
        if isinstance(transition, Goto):
            frame = state.top
            if frame.step != transition.step:
                frame.history.append(frame.step)
            frame.step = transition.step
            self._step(frame)  # an unknown name restarts the flow rather than failing
        elif isinstance(transition, Finish):
            if self._in_flow(state):
                state.frames.pop()
        elif isinstance(transition, Begin):
            self._push(state, transition.flow)
            state.top.answers.update(transition.answers)
        elif isinstance(transition, Retry) and transition.reason:
            turn.note(transition.reason)
        if turn.language_changed:
            turn.t = self.translator_for(turn.user.language)
            turn.language_changed = False
        turn.answers = state.top.answers
        return await self._ask(turn, state)

    async def _ask(self, turn: Turn, state: ConversationState) -> Message:
        step = self._step(state.top)
        for _ in range(len(self._flow(state.top.flow).steps) + len(state.frames)):
            skip = await step.enter(turn)
            if skip is None:
                break
            if isinstance(skip, Finish):
                if not self._in_flow(state):
                    break
                state.frames.pop()
            else:
                state.top.step = skip.step
            turn.answers = state.top.answers
            step = self._step(state.top)
        question = await step.ask(turn)
        # A new number only for a new question: the same question asked again (after help,
        # a wrong answer, an expired button) keeps its number, so every copy of it still works.
        asked = f"{len(state.frames)}:{state.top.flow}:{state.top.step}"
        if asked != state.asked:
            state.prompt += 1
            state.asked = asked
        navigation: tuple[Button, ...] = ()
        if step.navigation and self._in_flow(state):
            navigation = (
                Button(BACK, self._nav_label(turn.t, BACK)),
                Button(CANCEL, self._nav_label(turn.t, CANCEL)),
            )
        if isinstance(question, Question):
            return dataclasses.replace(question, prompt=state.prompt, navigation=navigation)
        if isinstance(question, Request) and navigation:
            return dataclasses.replace(
                question,
                alternatives=(*question.alternatives, *(b.label for b in navigation)),
            )
        return question

    @staticmethod
    def _compose(turn: Turn, question: Message | None) -> list[Message]:
        """Said messages first, then the question with the notes on top (one message)."""
        messages = list(turn.out)
        if question is None:
            if turn.notes:
                messages.append(Message("\n\n".join(turn.notes)))
            return messages
        if turn.notes:
            text = "\n\n".join([*turn.notes, question.text])
            question = dataclasses.replace(question, text=text)
        messages.append(question)
        return messages

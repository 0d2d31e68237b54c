"""STOP: one word, at any step, and no alert comes any more until `/alertes`.

People who are flooded, or scared to have their phone buzz, must not have to find a menu: STOP
(or ARRÊT, or /stop) works wherever they are, and the question they were answering is asked
again, their answers kept. "Dabila" is not one of the words: it is Bambara's "cancel" button.
"""

from __future__ import annotations

from bot.flow import Finish, Flow, Step, Turn
from bot.i18n import Translator
from bot.inbound import InboundEvent
from bot.matching import normalize
from bot.outbound import Message
from handlers.commands import COMMANDS, command_language
from storage import outbox, subscriptions

PAUSE_FLOW = "alerts_pause"
#: the outbox rows STOP stops (announcements and notices about one's own reports go on)
ALERT_KINDS = ("alert", "digest")

#: whole messages that pause the alerts, as `normalize` leaves them
STOP_WORDS = frozenset(
    {
        "stop",
        "arret",
        "arreter",
        "stop alertes",
        "stop alerts",
        "arret alertes",
        "arret des alertes",
    }
)


def command(t: Translator, action: str) -> str:
    spec = next(c for c in COMMANDS if c.action == action)
    return "/" + spec.name_for(command_language(t.language))


async def pause_note(turn: Turn) -> str:
    """Pause this person's alerts and say so, with how to resume."""
    t = turn.t
    resume = command(t, "alerts")
    user_id = turn.user.id
    since = await subscriptions.paused_since(turn.conn, user_id)
    if since is not None:
        return t._(
            "⏸️ Vos alertes sont déjà en pause depuis le {date}. Pour les reprendre, envoyez "
            "{command}.",
            date=t.date(since, "medium"),
            command=resume,
        )
    follows = await subscriptions.of_user(turn.conn, user_id) or await subscriptions.focal_scopes(
        turn.conn, user_id
    )
    if not follows:
        return t._(
            "Vous ne recevez pas d'alertes. Pour en recevoir, envoyez {command}.", command=resume
        )
    await subscriptions.pause(turn.conn, user_id, turn.now)
    # what was queued before (a broadcast still going out, tomorrow's digest) stays unsent too
    await outbox.cancel_for_user(turn.conn, user_id, ALERT_KINDS)
    return t._(
        "⏸️ C'est noté : vous ne recevrez plus d'alertes. Pour les reprendre, envoyez {command}.",
        command=resume,
    )


async def stop_word(turn: Turn, text: str) -> bool:
    """The engine's hook for every text: True when it was STOP (the alerts are then paused)."""
    if normalize(text) not in STOP_WORDS:
        return False
    turn.note(await pause_note(turn))
    return True


class PauseNow(Step):
    """/stop: pauses on the way in and leaves at once, so the current question comes back."""

    name = "pause"

    async def enter(self, turn: Turn) -> Finish:
        turn.note(await pause_note(turn))
        return Finish()

    async def ask(self, turn: Turn) -> Message:
        # Not reached (enter() always finishes); should it be, it still says the right thing.
        return Message(await pause_note(turn))

    async def answer(self, turn: Turn, event: InboundEvent) -> Finish:
        return Finish()


def pause_flow() -> Flow:
    return Flow(PAUSE_FLOW, [PauseNow()])

"""What the `/alertes` questions gather, and writing it as a subscription.

Each answer waits in `turn.answers` until the last question writes the subscription, so a
wrong answer, "back" or a restart never loses what was already chosen.
"""

from __future__ import annotations

from bot.flow import Goto, Transition, Turn
from handlers.alerts import areas
from handlers.alerts.severity import severity
from storage import subscriptions
from storage.subscriptions import AreaKind

#: what the questions keep until the subscription is written
FORM = ("kind", "code", "severity")
#: answers.get(HOME): the overview was shown in this visit, it is where the flow returns
HOME = "_home"


async def save(turn: Turn, delivery: str, hour: int | None) -> Transition:
    """Write the subscription the questions gathered, then show the overview."""
    if not all(key in turn.answers for key in FORM):
        return Goto("area")  # should not happen: start the questions again, never fail
    t = turn.t
    level = int(turn.answers["severity"])
    kind = AreaKind(turn.answers["kind"])
    code = str(turn.answers["code"])
    was_paused = await paused(turn)
    await subscriptions.subscribe(
        turn.conn, turn.user.id, kind, code, level, delivery, hour, turn.now
    )
    turn.note(
        t._(
            "✅ C'est noté : {area} · {dot} {which} · {how}.",
            area=areas.area_name(t, kind, code),
            dot=severity(level).emoji,
            which=t._(severity(level).from_here),
            how=areas.delivery_text(t, delivery, hour),
        )
    )
    if was_paused:
        turn.note(t._("▶️ Vos alertes reprennent."))
    clear_form(turn)
    return Goto("overview")


def clear_form(turn: Turn) -> None:
    for key in FORM:
        turn.answers.pop(key, None)


async def follows_anything(turn: Turn) -> bool:
    return bool(
        await subscriptions.of_user(turn.conn, turn.user.id)
        or await subscriptions.focal_scopes(turn.conn, turn.user.id)
    )


async def paused(turn: Turn) -> bool:
    return await subscriptions.paused_since(turn.conn, turn.user.id) is not None

"""The one answer to a press or command the user has no right to: a polite no, and a line in
the audit log (who tried what, on what: ids and codes only). Every feature with roles uses it.
"""

from __future__ import annotations

from bot.flow import Turn
from storage import audit


async def refuse(turn: Turn, what: str, subject: str) -> None:
    """Say no, and keep a trace of who tried what (ids and codes only)."""
    await audit.record(turn.conn, turn.now, "refused", turn.user.id, subject, what[:64])
    turn.note(
        turn.t._(
            "⛔ Vous n'avez pas le droit de faire cela. Si vous pensez que c'est une erreur, "
            "demandez à un coordinateur de vérifier votre rôle."
        )
    )

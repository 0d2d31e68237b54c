"""What Kibaru keeps about a person, and deleting it on request (`/effacer`)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.flow import ChoiceStep, Finish, Flow, Option, Silence, Transition, Turn
from bot.i18n import Translator
from handlers.commands import COMMANDS, command_language
from handlers.sessions.common import Context
from handlers.sessions.invitations import release_places
from storage import reports, review, users

FORGET_FLOW = "forget"


def _command(t: Translator, action: str) -> str:
    spec = next(c for c in COMMANDS if c.action == action)
    return "/" + spec.name_for(command_language(t.language))


def privacy_notice(t: Translator) -> str:
    return "\n".join(
        [
            t._("🔒 Votre vie privée"),
            t._(
                "• Kibaru garde seulement votre langue et l'identifiant de cette conversation, "
                "pour pouvoir vous répondre. Aucun nom, aucun numéro de téléphone."
            ),
            t._(
                "• Vos signalements peuvent rester anonymes : les analystes ne voient ni votre "
                "nom ni votre numéro de téléphone, sauf si vous choisissez de les donner."
            ),
            t._(
                "• Vous pouvez effacer vos données à tout moment avec {command}.",
                command=_command(t, "forget"),
            ),
        ]
    )


class ConfirmForget(ChoiceStep):
    name = "confirm"

    async def question(self, turn: Turn) -> str:
        return turn.t._(
            "⚠️ Effacer toutes vos données ? Votre langue, votre conversation en cours et vos "
            "rôles seront supprimés. Cela ne peut pas être défait."
        )

    async def options(self, turn: Turn) -> Sequence[Option]:
        return (
            Option("yes", turn.t._("🗑️ Oui, tout effacer"), ("oui", "yes", "awo")),
            Option("no", turn.t._("Non, garder mes données"), ("non", "no", "ayi")),
        )

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key != "yes":
            turn.note(turn.t._("Rien n'a été effacé."))
            return Finish()
        # Draft files go from the disk too (after the commit); sent reports stay, unlinked
        # from the person and made anonymous by the database (storage/migrations/0002).
        turn.files_to_delete.extend(await reports.drop_draft_media(turn.conn, turn.user.id))
        await release_places(Context.of(turn), turn.user.id)
        await review.forget_decider(turn.conn, turn.user.id)
        await users.delete(turn.conn, turn.user.id)
        turn.forgotten = True
        turn.say(
            turn.t._(
                "✅ Vos données ont été effacées. Pour utiliser Kibaru à nouveau, envoyez /start."
            )
        )
        return Silence()


def forget_flow() -> Flow:
    return Flow(FORGET_FLOW, [ConfirmForget()])

"""Two questions for people invited to an open session who are not members of the
committee: sex and age group, asked once and kept (`participant_profiles`), so that the
participation figures (women, youth) include them. Nothing else is asked."""

from __future__ import annotations

from collections.abc import Sequence

from bot.flow import ChoiceStep, Finish, Flow, Goto, Option, Transition, Turn
from handlers.ccsc.labels import AGE_GROUPS, SEX_WORDS, SEXES
from storage import committees

PROFILE_FLOW = "session_profile"


async def needs_profile(turn: Turn) -> bool:
    return await committees.profile(turn.conn, turn.user.id) is None


class Sex(ChoiceStep):
    name = "sex"
    columns = 2

    async def question(self, turn: Turn) -> str:
        return turn.t._(
            "Une dernière question, une seule fois, pour compter la participation des femmes "
            "et des jeunes (rien d'autre) : vous êtes…"
        )

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [
            Option(key, turn.t._(label), SEX_WORDS.get(key, ())) for key, label in SEXES.items()
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        turn.answers["sex"] = key
        return Goto(AgeGroup.name)


class AgeGroup(ChoiceStep):
    name = "age_group"

    async def question(self, turn: Turn) -> str:
        return turn.t._("Quel âge avez-vous ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [Option(key, turn.t._(label)) for key, label in AGE_GROUPS.items()]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        await committees.save_profile(
            turn.conn, turn.user.id, str(turn.answers["sex"]), key, None, turn.now
        )
        turn.say(turn.t._("Merci ! C'est noté pour les prochaines sessions aussi."))
        return Finish()


def profile_flow() -> Flow:
    return Flow(PROFILE_FLOW, [Sex(), AgeGroup()])

"""`/ccsc`: ask to join a committee, or see one's committees and leave one.

Each answer (type, sex, age group, display name) is asked only here and kept only for the
participation figures. Everything typed or tapped is kept in `turn.answers` until the request
is sent, so "back" and a wrong answer never lose what was already given.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.flow import ChoiceStep, Finish, Flow, Goto, Option, Retry, TextStep, Transition, Turn
from handlers.ccsc import notify
from handlers.ccsc.labels import (
    AGE_GROUPS,
    MEMBER_TYPE_WORDS,
    MEMBER_TYPES,
    SEX_WORDS,
    SEXES,
    member_type_label,
)
from handlers.sessions.common import Context
from handlers.sessions.invitations import withdraw_from_committee
from storage import committees
from storage.committees import MemberStatus, MemberType

CCSC_FLOW = "ccsc"
MAX_NAME = 40


async def _mine(turn: Turn) -> list[tuple[committees.Member, committees.Committee]]:
    return await committees.of_user(turn.conn, turn.user.id)


class Mine(ChoiceStep):
    """Home for members: their committees, a way to leave one, or to join another."""

    name = "mine"

    async def enter(self, turn: Turn) -> Goto | None:
        return None if await _mine(turn) else Goto("committee")

    async def question(self, turn: Turn) -> str:
        t = turn.t
        lines = [t._("🏛️ Vos comités CCS-C :")]
        for member, committee in await _mine(turn):
            state = (
                t._("membre") if member.status is MemberStatus.ACTIVE else t._("demande en attente")
            )
            lines.append(f"• {committee.name} ({state})")
        return "\n".join(lines)

    async def options(self, turn: Turn) -> Sequence[Option]:
        t = turn.t
        options = [
            Option(
                f"leave:{member.id}",
                t._("🚪 Quitter le {committee}", committee=committee.name)
                if member.status is MemberStatus.ACTIVE
                else t._("🚪 Retirer ma demande au {committee}", committee=committee.name),
            )
            for member, committee in await _mine(turn)
        ]
        options.append(Option("join", t._("➕ Rejoindre un autre comité"), ("rejoindre", "join")))
        return options

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key == "join":
            return Goto("committee")
        turn.answers["leave"] = int(key.split(":")[1])
        return Goto("leave")


class Leave(ChoiceStep):
    name = "leave"

    async def question(self, turn: Turn) -> str:
        return turn.t._("Voulez-vous vraiment quitter ce comité ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        t = turn.t
        return (
            Option("yes", t._("🚪 Oui, quitter"), ("oui", "yes", "awo")),
            Option("no", t._("↩️ Non, rester"), ("non", "no", "ayi")),
        )

    async def chosen(self, turn: Turn, key: str) -> Transition:
        member_id = turn.answers.pop("leave", None)
        if key == "no" or member_id is None:
            return Goto("mine")
        member = await committees.member(turn.conn, int(member_id))
        if member is None or member.user_id != turn.user.id:
            return Goto("mine")
        committee = await committees.get(turn.conn, member.committee_id)
        # A pending request is withdrawn the same way: a secretary pressing later is told
        # it was handled already.
        was_active = member.status is MemberStatus.ACTIVE
        await committees.end(turn.conn, member.id, MemberStatus.LEFT, turn.user.id, turn.now)
        if was_active and committee is not None:
            await withdraw_from_committee(Context.of(turn), committee.id, turn.user.id)
            await notify.tell_managers_left(turn.conn, committee, member, turn.translator, turn.now)
        turn.note(
            turn.t._(
                "Vous avez quitté le {committee}. Vous pouvez revenir avec /ccsc.",
                committee=committee.name if committee else "CCS-C",
            )
        )
        return Finish()


class CommitteeChoice(ChoiceStep):
    name = "committee"

    async def _choices(self, turn: Turn) -> list[committees.Committee]:
        taken = {c.id for _, c in await _mine(turn)}
        return [c for c in await committees.all_committees(turn.conn) if c.id not in taken]

    async def enter(self, turn: Turn) -> Finish | None:
        if await self._choices(turn):
            return None
        turn.note(turn.t._("Vous avez déjà demandé à rejoindre tous les comités."))
        return Finish()

    async def question(self, turn: Turn) -> str:
        return turn.t._(
            "🏛️ Les comités consultatifs communaux de sécurité (CCS-C) réunissent forces de "
            "sécurité, autorités, société civile, femmes, jeunes et leaders.\n"
            "Quel comité voulez-vous rejoindre ?"
        )

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [
            Option(str(c.id), c.name, (c.code, c.commune or c.code))
            for c in await self._choices(turn)
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        turn.answers["committee_id"] = int(key)
        return Goto("type")


class TypeChoice(ChoiceStep):
    name = "type"

    async def question(self, turn: Turn) -> str:
        return turn.t._("À quel titre participez-vous au comité ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [
            Option(kind.value, member_type_label(turn.t, kind), MEMBER_TYPE_WORDS[kind])
            for kind in MEMBER_TYPES
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        turn.answers["member_type"] = key
        return Goto("keep")


class KeepProfile(ChoiceStep):
    """A profile given before (another committee, an open session) is offered, not asked."""

    name = "keep"

    async def enter(self, turn: Turn) -> Goto | None:
        if await committees.profile(turn.conn, turn.user.id) is None:
            return Goto("sex")
        return None

    async def question(self, turn: Turn) -> str:
        t = turn.t
        profile = await committees.profile(turn.conn, turn.user.id)
        assert profile is not None
        return t._(
            "Vous nous avez déjà dit : {sex}, {age}, nom : {name}.\nGarder ces réponses ?",
            sex=t._(SEXES[profile.sex]),
            age=t._(AGE_GROUPS[profile.age_group]),
            name=profile.display_name or "—",
        )

    async def options(self, turn: Turn) -> Sequence[Option]:
        t = turn.t
        return (
            Option("keep", t._("✅ Oui, les garder"), ("oui", "yes", "awo")),
            Option("change", t._("✏️ Les changer"), ("changer", "change")),
        )

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key == "change":
            return Goto("sex")
        profile = await committees.profile(turn.conn, turn.user.id)
        assert profile is not None
        turn.answers.update(
            sex=profile.sex, age_group=profile.age_group, display_name=profile.display_name
        )
        # A profile from an open session may have no name: the committee needs one.
        return Goto("confirm") if profile.display_name else Goto("display_name")


class SexChoice(ChoiceStep):
    name = "sex"
    columns = 2

    async def question(self, turn: Turn) -> str:
        return turn.t._("Vous êtes… (pour compter la participation des femmes ; rien d'autre)")

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [Option(key, turn.t._(label), SEX_WORDS[key]) for key, label in SEXES.items()]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        turn.answers["sex"] = key
        return Goto("age")


class AgeChoice(ChoiceStep):
    name = "age"
    columns = 2

    async def question(self, turn: Turn) -> str:
        return turn.t._("Quel âge avez-vous ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [Option(key, turn.t._(label)) for key, label in AGE_GROUPS.items()]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        turn.answers["age_group"] = key
        return Goto("display_name")


class DisplayName(TextStep):
    name = "display_name"

    async def question(self, turn: Turn) -> str:
        return turn.t._(
            "Comment le comité doit-il vous appeler ? Un prénom suffit (par exemple : Awa)."
        )

    async def typed(self, turn: Turn, text: str) -> Transition:
        if len(text) > MAX_NAME or any(ch.isdigit() for ch in text):
            return Retry(
                turn.t._(
                    "Écrivez seulement un nom ou un prénom, sans chiffres, en {limit} lettres "
                    "au plus.",
                    limit=turn.t.number(MAX_NAME),
                )
            )
        turn.answers["display_name"] = text
        return Goto("confirm")


class Confirm(ChoiceStep):
    name = "confirm"

    async def question(self, turn: Turn) -> str:
        t = turn.t
        committee = await committees.get(turn.conn, int(turn.answers["committee_id"]))
        sex, age = SEXES[turn.answers["sex"]], AGE_GROUPS[turn.answers["age_group"]]
        return t._(
            "Vérifiez votre demande :\n🏛️ {committee}\n👤 {name} — {type}\n{sex}, {age}\n"
            "Envoyer la demande au secrétariat du comité ?",
            committee=committee.name if committee else "—",
            name=turn.answers.get("display_name") or "—",
            type=member_type_label(turn.t, MemberType(turn.answers["member_type"])),
            sex=t._(sex),
            age=t._(age),
        )

    async def options(self, turn: Turn) -> Sequence[Option]:
        return (Option("send", turn.t._("📨 Envoyer la demande"), ("envoyer", "send", "ci")),)

    async def chosen(self, turn: Turn, key: str) -> Transition:
        t = turn.t
        committee = await committees.get(turn.conn, int(turn.answers["committee_id"]))
        if committee is None:
            turn.note(t._("Ce comité n'existe plus. Choisissez-en un autre :"))
            return Goto("committee")
        await committees.save_profile(
            turn.conn,
            turn.user.id,
            turn.answers["sex"],
            turn.answers["age_group"],
            turn.answers.get("display_name"),
            turn.now,
        )
        member = await committees.request(
            turn.conn, committee.id, turn.user.id, MemberType(turn.answers["member_type"]), turn.now
        )
        if member is None:
            turn.note(t._("Vous avez déjà une demande ou une place dans ce comité."))
            return Finish()
        await notify.ask_managers(turn.conn, committee, member, turn.translator, turn.now)
        turn.note(
            t._(
                "📨 Demande envoyée au {committee}. Vous recevrez un message quand le "
                "secrétariat aura répondu.",
                committee=committee.name,
            )
        )
        return Finish()


def ccsc_flow() -> Flow:
    return Flow(
        CCSC_FLOW,
        [
            Mine(),
            Leave(),
            CommitteeChoice(),
            TypeChoice(),
            KeepProfile(),
            SexChoice(),
            AgeChoice(),
            DisplayName(),
            Confirm(),
        ],
    )

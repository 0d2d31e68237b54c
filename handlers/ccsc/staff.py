"""What secretaries and coordinators do with committees: decide on requests (buttons), list
and remove members (/membres), create a committee (/comite_nouveau).

Button data comes from the network and is never trusted: the member row must exist and the
presser must be a coordinator or a secretary of THAT committee, checked at every press. A
refusal is told and audited (ids and codes only, never names).
"""

from __future__ import annotations

from typing import Literal

from bot.flow import Retry, Transition, Turn
from bot.inbound import ActionEvent, CommandEvent, action_data
from bot.outbound import ActionMessage, Button
from handlers.ccsc import notify
from handlers.ccsc.labels import member_type_label
from handlers.refusal import refuse
from handlers.report import places
from handlers.sessions.common import Context
from handlers.sessions.invitations import invite_members, withdraw_from_committee
from storage import committees, roles, sessions
from storage.committees import Committee, MemberStatus
from storage.roles import Role


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 12 else None


async def decide_action(turn: Turn, event: ActionEvent) -> Transition:
    """cm:<member id>:ok|no"""
    t = turn.t
    member_id = _number(event.args[0]) if len(event.args) == 2 else None
    verb = event.args[1] if len(event.args) == 2 else ""
    if member_id is None or verb not in ("ok", "no"):
        await refuse(turn, "cm:malformed", "member:?")
        return Retry()
    member = await committees.member(turn.conn, member_id)
    committee = await committees.get(turn.conn, member.committee_id) if member else None
    if member is None or committee is None:
        # who manages no committee learns nothing, not even which requests exist
        if not await committees.managed_by(turn.conn, turn.user.id):
            await refuse(turn, f"cm:{verb}", f"member:{member_id}")
        else:
            turn.note(t._("Cette demande n'existe plus."))
        return Retry()
    if not await committees.may_manage(turn.conn, turn.user.id, committee):
        await refuse(turn, f"cm:{verb}", f"member:{member.id}")
        return Retry()
    decided = await committees.decide(turn.conn, member.id, verb == "ok", turn.user.id, turn.now)
    if decided is None:
        turn.note(t._("Cette demande a déjà été traitée. Merci !"))
        return Retry()
    render = notify.approved(committee) if verb == "ok" else notify.declined(committee)
    await notify.tell_member(turn.conn, decided, verb, render, turn.translator, turn.now)
    if verb == "ok":  # a new member is invited to the sessions already planned
        ctx = Context.of(turn)
        for session in await sessions.upcoming_of(turn.conn, committee.id, turn.now):
            await invite_members(ctx, session)
    name = decided.display_name or "—"
    turn.note(
        t._("✅ {name} est maintenant membre du {committee}.", name=name, committee=committee.name)
        if verb == "ok"
        else t._("Demande de {name} refusée. La personne en est informée.", name=name)
    )
    return Retry()


async def remove_action(turn: Turn, event: ActionEvent) -> Transition:
    """cmr:<member id>"""
    t = turn.t
    member_id = _number(event.args[0]) if len(event.args) == 1 else None
    member = await committees.member(turn.conn, member_id) if member_id else None
    committee = await committees.get(turn.conn, member.committee_id) if member else None
    if member is None or committee is None:
        await refuse(turn, "cmr", f"member:{member_id or '?'}")
        return Retry()
    if not await committees.may_manage(turn.conn, turn.user.id, committee):
        await refuse(turn, "cmr", f"member:{member.id}")
        return Retry()
    ended = await committees.end(turn.conn, member.id, MemberStatus.REMOVED, turn.user.id, turn.now)
    if ended is None:
        turn.note(t._("Cette personne n'est déjà plus membre du comité."))
        return Retry()
    await withdraw_from_committee(Context.of(turn), committee.id, ended.user_id)
    await notify.tell_member(
        turn.conn, ended, "removed", notify.removed(committee), turn.translator, turn.now
    )
    turn.note(
        t._(
            "{name} a été retiré·e du {committee}.",
            name=ended.display_name or "—",
            committee=committee.name,
        )
    )
    return Retry()


async def pick_committee(turn: Turn, code: str, what: str) -> Committee | Literal[False] | None:
    """The committee a staff command is about: the one named, or the only one the person
    manages. False when refused (already told), None when a name is needed (not told)."""
    mine = await committees.managed_by(turn.conn, turn.user.id)
    if not mine:
        await refuse(turn, what, "committee:?")
        return False
    if code:
        found = await committees.by_code(turn.conn, code)
        if found is None:
            turn.note(
                turn.t._(
                    "Je ne connais pas le comité « {code} ». Codes possibles : {codes}",
                    code=code[:40],
                    codes=", ".join(c.code for c in mine),
                )
            )
            return False
        if found.id not in {c.id for c in mine}:
            await refuse(turn, what, f"committee:{found.code}")
            return False
        return found
    return mine[0] if len(mine) == 1 else None


async def list_members(turn: Turn, event: CommandEvent) -> Transition:
    """/membres [committee code]"""
    t = turn.t
    picked = await pick_committee(turn, event.args.strip().split(" ")[0].lower(), "members")
    if picked is False:
        return Retry()
    if picked is None:
        mine = await committees.managed_by(turn.conn, turn.user.id)
        turn.note(
            t._(
                "Précisez le comité : /membres CODE. Codes : {codes}",
                codes=", ".join(c.code for c in mine),
            )
        )
        return Retry()
    members = await committees.active_members(turn.conn, picked.id)
    # Requests are listed too: the message that asked for a decision may be long gone.
    for waiting in await committees.pending_members(turn.conn, picked.id):
        turn.out.append(
            ActionMessage(
                t._(
                    "⏳ Demande en attente : {name} — {type}",
                    name=waiting.display_name or "—",
                    type=member_type_label(t, waiting.member_type),
                ),
                actions=tuple(
                    tuple(Button(data, label) for label, data in row)
                    for row in notify.decision_buttons(t, waiting.id)
                ),
            )
        )
    if not members:
        turn.note(t._("Le {committee} n'a encore aucun membre approuvé.", committee=picked.name))
        return Retry()
    lines = [
        t.ngettext(
            "👥 {committee} : {n} membre",
            "👥 {committee} : {n} membres",
            len(members),
            committee=picked.name,
        )
    ]
    lines += [
        f"{i}. {m.display_name or '—'} — {member_type_label(t, m.member_type)}"
        for i, m in enumerate(members, 1)
    ]
    turn.out.append(
        ActionMessage(
            "\n".join(lines),
            actions=tuple(
                (
                    Button(
                        action_data(notify.REMOVE, m.id),
                        t._("❌ Retirer {number}. {name}", number=i, name=m.display_name or "—"),
                    ),
                )
                for i, m in enumerate(members, 1)
            ),
        )
    )
    return Retry()


async def new_committee(turn: Turn, event: CommandEvent) -> Transition:
    """/comite_nouveau NAME [commune code]"""
    t = turn.t
    if not await roles.has_role(turn.conn, turn.user.id, Role.COORDINATOR):
        await refuse(turn, "committee.create", "committees")
        return Retry()
    words = event.args.split()
    commune: str | None = None
    if len(words) > 1 and (places.cercle(words[-1].lower()) or places.region(words[-1].lower())):
        commune = words.pop().lower()
    name = " ".join(words)
    if not name or len(name) > 60:
        turn.note(
            t._(
                "Utilisation : /comite_nouveau NOM [CODE DE COMMUNE], par exemple "
                "/comite_nouveau CCS-C Kati kati. Le nom fait 60 caractères au plus."
            )
        )
        return Retry()
    created = await committees.create(turn.conn, name, commune, turn.now, turn.user.id)
    if created is None:
        turn.note(
            t._(
                "Un comité avec un nom proche existe déjà ({code}). Choisissez un autre nom.",
                code=committees.code_for(name),
            )
        )
        return Retry()
    turn.note(
        t._(
            "🏛️ Comité créé : {name} (code {code}). Donnez le rôle de secrétaire avec "
            "/role ID ccsc_secretary {code}",
            name=created.name,
            code=created.code,
        )
    )
    return Retry()

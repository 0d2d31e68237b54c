"""Commands of the team: roles (/role, /roles), one's own id (/moi) and a broadcast's
progress (/diffusion).

Roles are given by numeric Telegram id: Kibaru stores no usernames (a username is personal
data, and it can change hands). A person sends /moi to the bot and passes the number on to a
coordinator. Every change is audited by `storage.roles`.
"""

from __future__ import annotations

from bot.flow import Retry, Transition, Turn
from bot.i18n import N_, Translator
from bot.inbound import CommandEvent
from handlers.refusal import refuse
from handlers.report import places
from handlers.review.posting import withdraw_posts
from storage import committees, outbox, roles, users
from storage.outbox import Status
from storage.roles import Role

#: role code -> French label
ROLE_LABELS: dict[Role, str] = {
    Role.COORDINATOR: N_("coordinateur"),
    Role.VALIDATOR: N_("validateur"),
    Role.FOCAL_POINT: N_("point focal"),
    Role.CCSC_SECRETARY: N_("secrétaire CCS-C"),
    Role.CCSC_MEMBER: N_("membre CCS-C"),
}
#: roles whose scope is a committee (its code), not a place
COMMITTEE_ROLES = (Role.CCSC_SECRETARY, Role.CCSC_MEMBER)
#: words accepted for each role, in French and English
_ROLE_WORDS: dict[str, Role] = {
    "coordinator": Role.COORDINATOR,
    "coordinateur": Role.COORDINATOR,
    "validator": Role.VALIDATOR,
    "validateur": Role.VALIDATOR,
    "focal_point": Role.FOCAL_POINT,
    "point_focal": Role.FOCAL_POINT,
    "ccsc_secretary": Role.CCSC_SECRETARY,
    "secretaire": Role.CCSC_SECRETARY,
    "ccsc_member": Role.CCSC_MEMBER,
    "membre": Role.CCSC_MEMBER,
}


def _role_usage(t: Translator) -> str:
    return t._(
        "Utilisation : /role ID RÔLE [ZONE] pour donner un rôle, /role ID RÔLE [ZONE] retirer "
        "pour le retirer.\nRÔLE : validator, focal_point, coordinator, ccsc_secretary, "
        "ccsc_member. ZONE : un code de région ou de commune (par exemple bamako_c4), "
        "rien pour tout le Mali.\nLa personne obtient son ID en envoyant /moi."
    )


def _scope_name(scope: str | None) -> str:
    if scope is None:
        return "Mali"
    found = places.cercle(scope)
    if found:
        return found[1].name
    region = places.region(scope)
    return region.name if region else scope


async def _known_scope(turn: Turn, role: Role, scope: str) -> bool:
    """A committee's roles are scoped to its code (`ccsc_bamako_c4`), the others to a place
    (a region, a cercle or a commune of Bamako); anything else is explained (False)."""
    t = turn.t
    if role in COMMITTEE_ROLES:
        if await committees.by_code(turn.conn, scope) is not None:
            return True
        codes = [c.code for c in await committees.all_committees(turn.conn)]
        turn.note(
            t._(
                "Je ne connais pas le comité « {code} ». Codes possibles : {codes}",
                code=scope[:40],
                codes=", ".join(codes),
            )
        )
        return False
    if places.region(scope) is not None or places.cercle(scope) is not None:
        return True
    turn.note(
        t._(
            "Je ne connais pas la zone « {scope} ». Donnez un code de région (par exemple "
            "mopti) ou de commune de Bamako (bamako_c4).",
            scope=scope[:40],
        )
    )
    return False


async def set_role(turn: Turn, event: CommandEvent) -> Transition:
    """/role ID ROLE [SCOPE] [retirer|remove]"""
    t = turn.t
    if not await roles.has_role(turn.conn, turn.user.id, Role.COORDINATOR):
        await refuse(turn, "role", "roles")
        return Retry()
    words = event.args.split()
    remove = bool(words) and words[-1].lower() in ("retirer", "remove", "revoke")
    if remove:
        words = words[:-1]
    if len(words) not in (2, 3) or not words[0].lstrip("@").isdigit():
        turn.note(_role_usage(t))
        return Retry()
    role = _ROLE_WORDS.get(words[1].lower())
    if role is None:
        turn.note(t._("Je ne connais pas le rôle « {role} ».", role=words[1][:32]) + "\n")
        turn.note(_role_usage(t))
        return Retry()
    scope = words[2].lower() if len(words) == 3 else None
    if scope is not None and not await _known_scope(turn, role, scope):
        return Retry()
    target, _ = await users.get_or_create(turn.conn, turn.user.channel, words[0], turn.now)
    label = t._(ROLE_LABELS[role])
    if remove:
        done = await roles.revoke(turn.conn, target.id, role, turn.now, scope, by=turn.user.id)
        if done:
            await withdraw_posts(turn.conn, target.id)
        turn.note(
            t._(
                "Rôle {role} ({scope}) retiré à {id}.",
                role=label,
                scope=_scope_name(scope),
                id=words[0],
            )
            if done
            else t._("{id} n'avait pas ce rôle.", id=words[0])
        )
        return Retry()
    done = await roles.grant(turn.conn, target.id, role, turn.now, scope, by=turn.user.id)
    turn.note(
        t._(
            "Rôle {role} ({scope}) donné à {id}.", role=label, scope=_scope_name(scope), id=words[0]
        )
        if done
        else t._("{id} a déjà ce rôle.", id=words[0])
    )
    return Retry()


async def list_roles(turn: Turn, event: CommandEvent) -> Transition:
    t = turn.t
    if not await roles.has_role(turn.conn, turn.user.id, Role.COORDINATOR):
        await refuse(turn, "roles", "roles")
        return Retry()
    lines = [t._("👥 Rôles :")]
    for role in Role:
        for user_id, scope in await roles.holders(turn.conn, role):
            user = await users.get(turn.conn, user_id)
            if user is not None:
                lines.append(f"• {user.chat_id} — {t._(ROLE_LABELS[role])} ({_scope_name(scope)})")
    if len(lines) == 1:
        lines.append(t._("Personne n'a encore de rôle."))
    turn.note("\n".join(lines))
    return Retry()


async def whoami(turn: Turn, event: CommandEvent) -> Transition:
    turn.note(
        turn.t._(
            "Votre identifiant Kibaru est {id}. Donnez-le à un coordinateur s'il doit vous "
            "donner un rôle.",
            id=turn.user.chat_id,
        )
    )
    return Retry()


async def broadcast_progress(turn: Turn, event: CommandEvent) -> Transition:
    """/diffusion REF: how far the alert of that report has gone."""
    t = turn.t
    if not await roles.has_role(turn.conn, turn.user.id, Role.COORDINATOR):
        await refuse(turn, "diffusion", "outbox")
        return Retry()
    reference = event.args.strip().upper()
    if not reference:
        turn.note(t._("Utilisation : /diffusion RÉFÉRENCE, par exemple /diffusion ML-2026-000123."))
        return Retry()
    counts = await outbox.progress(turn.conn, reference)
    if not any(counts.values()):
        turn.note(t._("Aucune diffusion pour {reference}.", reference=reference[:40]))
        return Retry()
    turn.note(
        t._(
            "📡 Diffusion de {reference} : {queued} en attente · {sent} envoyés · "
            "{failed} échoués · {blocked} bloqués.",
            reference=reference,
            queued=t.number(counts.get(Status.QUEUED, 0) + counts.get(Status.SENDING, 0)),
            sent=t.number(counts.get(Status.SENT, 0)),
            failed=t.number(counts.get(Status.FAILED, 0)),
            blocked=t.number(counts.get(Status.BLOCKED, 0)),
        )
    )
    return Retry()

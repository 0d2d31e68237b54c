"""Announcements (/annonce): a coordinator writes to an area's subscribers or to the focal
points, now or at a date and time they choose; /annonces lists those still to be sent, each
with a button to cancel it.

Recipients are resolved when the announcement is confirmed and each gets an outbox row held
until the chosen time, so a restart in between neither loses nor repeats anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

from bot.flow import (
    ChoiceStep,
    Finish,
    Flow,
    Goto,
    Option,
    Retry,
    TextStep,
    Transition,
    Turn,
)
from bot.i18n import Translator
from bot.inbound import ActionEvent, CommandEvent, action_data
from bot.outbound import ActionMessage, Button
from handlers.alerts.areas import ALL_MALI
from handlers.refusal import refuse
from handlers.report import places
from handlers.report.when import DateProblem, parse_time, parse_upcoming_date
from storage import announcements, outbox, roles, subscriptions
from storage.announcements import Announcement
from storage.outbox import Outgoing
from storage.roles import Role
from storage.subscriptions import Recipient

ANNOUNCE_FLOW = "announce"
CANCEL = "ann"  # the action name of the "cancel this announcement" button
MAX_TEXT = 1000


async def _is_coordinator(turn: Turn) -> bool:
    return await roles.has_role(turn.conn, turn.user.id, Role.COORDINATOR)


def _area_name(t: Translator, area: str | None) -> str:
    if area is None:
        return t._("tout le Mali")
    found = places.cercle(area)
    if found:
        return f"{found[1].name}, {found[0].name}"
    region = places.region(area)
    return region.name if region else area


def audience_name(t: Translator, audience: str, area: str | None) -> str:
    if audience == "focal_points":
        return t._("les points focaux")
    return t._("les abonnés de {area}", area=_area_name(t, area))


async def recipients(turn: Turn, audience: str, area: str | None) -> list[Recipient]:
    if audience == "focal_points":
        return [
            Recipient(user.id, user.channel, user.chat_id, user.language, "now", None)
            for user in await roles.people(turn.conn, (Role.FOCAL_POINT,))
        ]
    inside = places.cercle(area) if area else None
    return await subscriptions.followers(turn.conn, area, inside[0].code if inside else None)


class Audience(ChoiceStep):
    name = "audience"

    async def enter(self, turn: Turn) -> Finish | None:
        if not await _is_coordinator(turn):
            await refuse(turn, "announce", "announcements")
            return Finish()
        return None

    async def question(self, turn: Turn) -> str:
        return turn.t._("📣 Nouvelle annonce. À qui ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [
            Option("area", turn.t._("📍 Les abonnés d'une zone")),
            Option("focal_points", turn.t._("🧭 Tous les points focaux")),
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        turn.answers["audience"] = key
        turn.answers.pop("area", None)
        return Goto(Area.name if key == "area" else Text.name)


class Area(ChoiceStep):
    name = "area"
    columns = 2

    async def question(self, turn: Turn) -> str:
        return turn.t._("Quelle zone ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [
            Option(ALL_MALI, turn.t._("🇲🇱 Tout le Mali")),
            *(
                Option(r.code, r.name, places.REGION_ALIASES.get(r.code, ()))
                for r in places.REGIONS
            ),
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key == places.BAMAKO.code:
            return Goto(Commune.name)
        turn.answers["area"] = None if key == ALL_MALI else key
        return Goto(Text.name)


class Commune(ChoiceStep):
    name = "commune"
    columns = 2

    async def question(self, turn: Turn) -> str:
        return turn.t._("Tout Bamako, ou une commune ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [
            Option(places.BAMAKO.code, turn.t._("Tout Bamako")),
            *(Option(c.code, c.name) for c in places.BAMAKO.cercles),
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        turn.answers["area"] = key
        return Goto(Text.name)


class Text(TextStep):
    name = "text"
    min_words = 2

    async def question(self, turn: Turn) -> str:
        return turn.t._("Écrivez l'annonce, telle que les destinataires la liront (texte simple).")

    async def typed(self, turn: Turn, text: str) -> Transition:
        if len(text) > MAX_TEXT:
            return Retry(
                turn.t._(
                    "Cette annonce est trop longue ({length} caractères, {limit} au maximum). "
                    "Raccourcissez-la.",
                    length=turn.t.number(len(text)),
                    limit=turn.t.number(MAX_TEXT),
                )
            )
        turn.answers["text"] = text
        return Goto(When.name)


class When(ChoiceStep):
    name = "when"

    async def question(self, turn: Turn) -> str:
        return turn.t._("Quand l'envoyer ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [
            Option("now", turn.t._("⚡ Maintenant")),
            Option("later", turn.t._("🗓️ Choisir le jour et l'heure")),
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key == "now":
            turn.answers["send_at"] = turn.now.isoformat()
            return Goto(Confirm.name)
        return Goto(Day.name)


class Day(TextStep):
    name = "day"

    async def question(self, turn: Turn) -> str:
        return turn.t._("Quel jour ? Par exemple : demain, 28/11, 3 décembre.")

    async def typed(self, turn: Turn, text: str) -> Transition:
        today = turn.now.astimezone(turn.settings.timezone).date()
        day = parse_upcoming_date(text, today, turn.t.language)
        if isinstance(day, DateProblem):
            reasons = {
                DateProblem.TOO_OLD: turn.t._("Ce jour est déjà passé."),
                DateProblem.FUTURE: turn.t._("C'est plus d'un an à l'avance."),
                DateProblem.IMPOSSIBLE: turn.t._("Cette date n'existe pas."),
            }
            reason = reasons.get(day, turn.t._("Je n'ai pas compris cette date."))
            return Retry(reason + " " + turn.t._("Tapez un jour comme 28/11 ou « demain »."))
        turn.answers["day"] = day.isoformat()
        return Goto(Hour.name)


class Hour(TextStep):
    name = "hour"

    async def question(self, turn: Turn) -> str:
        return turn.t._("À quelle heure ? Par exemple : 8h, 18h30.")

    async def typed(self, turn: Turn, text: str) -> Transition:
        parsed = parse_time(text)
        if not isinstance(parsed, time):
            return Retry(turn.t._("Donnez une heure précise, par exemple 8h ou 18h30."))
        day = datetime.fromisoformat(str(turn.answers["day"])).date()
        moment = datetime.combine(day, parsed, tzinfo=turn.settings.timezone)
        if moment <= turn.now:
            return Retry(turn.t._("Cette heure est déjà passée. Donnez une heure à venir."))
        turn.answers["send_at"] = moment.isoformat()
        return Goto(Confirm.name)


class Confirm(ChoiceStep):
    name = "confirm"

    async def question(self, turn: Turn) -> str:
        t = turn.t
        audience, area = str(turn.answers["audience"]), turn.answers.get("area")
        found = await recipients(turn, audience, area)
        send_at = datetime.fromisoformat(str(turn.answers["send_at"]))
        when = t._("maintenant") if send_at <= turn.now else t.datetime(send_at, "full")
        return t.ngettext(
            "Annonce pour {audience} ({n} destinataire aujourd'hui), envoi {when} :\n\n{text}",
            "Annonce pour {audience} ({n} destinataires aujourd'hui), envoi {when} :\n\n{text}",
            len(found),
            audience=audience_name(t, audience, area),
            when=when,
            text=turn.answers["text"],
        )

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [
            Option("send", turn.t._("✅ Confirmer")),
            Option("edit", turn.t._("✏️ Changer le texte")),
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key == "edit":
            return Goto(Text.name)
        if not await _is_coordinator(turn):
            await refuse(turn, "announce", "announcements")
            return Finish()
        audience, area = str(turn.answers["audience"]), turn.answers.get("area")
        send_at = max(datetime.fromisoformat(str(turn.answers["send_at"])), turn.now)
        created = await announcements.create(
            turn.conn, turn.user.id, audience, area, str(turn.answers["text"]), send_at, turn.now
        )
        queued = await _enqueue(turn, created, await recipients(turn, audience, area))
        t = turn.t
        if send_at <= turn.now:
            turn.say(
                t.ngettext(
                    "📣 Annonce envoyée à {n} destinataire.",
                    "📣 Annonce envoyée à {n} destinataires.",
                    queued,
                )
            )
        else:
            turn.say(
                t._(
                    "📣 Annonce {batch} programmée pour {when}. /annonces pour la voir ou "
                    "l'annuler.",
                    batch=created.batch,
                    when=t.datetime(send_at, "full"),
                )
            )
        return Finish()


async def _enqueue(turn: Turn, created: Announcement, found: list[Recipient]) -> int:
    queued = 0
    for recipient in found:
        t = turn.translator(recipient.language)
        queued += await outbox.enqueue(
            turn.conn,
            key=f"announcement:{created.id}:{recipient.user_id}",
            kind="announcement",
            channel=recipient.channel,
            chat_id=recipient.chat_id,
            user_id=recipient.user_id,
            outgoing=Outgoing(t._("📣 Annonce de l'équipe Kibaru") + "\n\n" + created.text),
            now=turn.now,
            not_before=created.send_at if created.send_at > turn.now else None,
            batch=created.batch,
        )
    return queued


def announce_flow() -> Flow:
    return Flow(
        ANNOUNCE_FLOW, [Audience(), Area(), Commune(), Text(), When(), Day(), Hour(), Confirm()]
    )


async def list_scheduled(turn: Turn, event: CommandEvent) -> Transition:
    """/annonces: what is still to be sent, each with its cancel button."""
    t = turn.t
    if not await _is_coordinator(turn):
        await refuse(turn, "announcements", "announcements")
        return Retry()
    waiting = await announcements.scheduled(turn.conn, turn.now)
    if not waiting:
        turn.note(t._("Aucune annonce programmée."))
        return Retry()
    for item in waiting[:10]:
        turn.out.append(
            ActionMessage(
                t._(
                    "🗓️ {batch} · {when} · {audience}\n{text}",
                    batch=item.batch,
                    when=t.datetime(item.send_at, "short"),
                    audience=audience_name(t, item.audience, item.area),
                    text=item.text,
                ),
                actions=((Button(action_data(CANCEL, item.id), t._("🗑️ Annuler cette annonce")),),),
            )
        )
    return Retry()


async def cancel_action(turn: Turn, event: ActionEvent) -> Transition:
    """ann:<id>: cancel a scheduled announcement and its messages not yet sent."""
    raw = event.args[0] if len(event.args) == 1 else ""
    found = (
        await announcements.get(turn.conn, int(raw)) if raw.isdigit() and len(raw) < 12 else None
    )
    if found is None or not await _is_coordinator(turn):
        await refuse(turn, "ann:cancel", f"announcement:{raw[:12]}")
        return Retry()
    if not await announcements.cancel(turn.conn, found.id, turn.now):
        turn.note(turn.t._("Cette annonce était déjà annulée."))
        return Retry()
    removed = await outbox.cancel_batch(turn.conn, found.batch)
    turn.note(
        turn.t.ngettext(
            "🗑️ Annonce {batch} annulée ({n} message retiré).",
            "🗑️ Annonce {batch} annulée ({n} messages retirés).",
            removed,
            batch=found.batch,
        )
    )
    return Retry()

"""/session_nouvelle: a secretary or a coordinator creates a session in a guided
conversation, and every active member of the committee is invited on confirm.

The right to do so is checked when the conversation starts and again on confirm: a role
withdrawn in between must not let a session through.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.flow import ChoiceStep, Finish, Flow, Goto, Option, Retry, TextStep, Transition, Turn
from handlers.alerts.areas import ALL_MALI, scope_name
from handlers.refusal import refuse
from handlers.report import places
from handlers.sessions.common import (
    KIND_NAMES,
    Context,
    describe,
    new_code,
    when,
)
from handlers.sessions.invitations import invite_members, queue_roll_call
from handlers.sessions.moment import SessionDay, SessionHour
from handlers.sessions.rule import describe_rule, fill, rule_for
from storage import committees, sessions

NEW_SESSION_FLOW = "session_new"
MAX_TITLE = 120
MAX_TEXT = 800


class CommitteeChoice(ChoiceStep):
    name = "committee"
    columns = 2

    async def enter(self, turn: Turn) -> Goto | Finish | None:
        mine = await committees.managed_by(turn.conn, turn.user.id)
        if not mine:
            await refuse(turn, "session:new", "sessions")
            return Finish()
        if len(mine) == 1:
            turn.answers["committee"] = mine[0].id
            return Goto(Kind.name)
        return None

    async def question(self, turn: Turn) -> str:
        return turn.t._("🏛️ Nouvelle session. Pour quel comité ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [
            Option(str(c.id), c.name) for c in await committees.managed_by(turn.conn, turn.user.id)
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        turn.answers["committee"] = int(key)
        return Goto(Kind.name)


class Kind(ChoiceStep):
    name = "kind"

    async def question(self, turn: Turn) -> str:
        return turn.t._("Quel genre de session ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [Option(kind, turn.t._(label)) for kind, label in KIND_NAMES.items()]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        turn.answers["kind"] = key
        return Goto(Title.name)


class Title(TextStep):
    name = "title"

    async def question(self, turn: Turn) -> str:
        return turn.t._("Quel titre ? Par exemple : Réunion statutaire de décembre.")

    async def typed(self, turn: Turn, text: str) -> Transition:
        if len(text) > MAX_TITLE:
            return Retry(
                turn.t._(
                    "Ce titre est trop long ({length} caractères, {limit} au maximum). "
                    "Raccourcissez-le.",
                    length=turn.t.number(len(text)),
                    limit=turn.t.number(MAX_TITLE),
                )
            )
        turn.answers["title"] = text
        return Goto(SessionDay.name)


class Place(TextStep):
    name = "place"

    async def question(self, turn: Turn) -> str:
        return turn.t._("Où ? Par exemple : Mairie de la Commune IV, salle de réunion.")

    async def typed(self, turn: Turn, text: str) -> Transition:
        turn.answers["place"] = text[:MAX_TITLE]
        return Goto(Agenda.name)


class Agenda(TextStep):
    name = "agenda"
    optional = True

    async def question(self, turn: Turn) -> str:
        return turn.t._("L'ordre du jour (facultatif) ?")

    async def typed(self, turn: Turn, text: str) -> Transition:
        turn.answers["agenda"] = text[:MAX_TEXT]
        return Goto(Summary.name)

    async def skipped(self, turn: Turn) -> Transition:
        turn.answers["agenda"] = None
        return Goto(Summary.name)


class Summary(TextStep):
    name = "summary"
    optional = True

    async def question(self, turn: Turn) -> str:
        return turn.t._("Un résumé pour les membres (facultatif) ?")

    async def typed(self, turn: Turn, text: str) -> Transition:
        turn.answers["summary"] = text[:MAX_TEXT]
        return Goto(Capacity.name)

    async def skipped(self, turn: Turn) -> Transition:
        turn.answers["summary"] = None
        return Goto(Capacity.name)


class Capacity(TextStep):
    """A training or a workshop may have a limited number of places; a statutory meeting is
    for every member, so it is not asked."""

    name = "capacity"
    optional = True

    async def enter(self, turn: Turn) -> Goto | Finish | None:
        if turn.answers.get("kind") == "statutory":
            turn.answers["capacity"] = None
            return Goto(Confirm.name)
        return None

    async def question(self, turn: Turn) -> str:
        return turn.t._(
            "Combien de places ? Tapez un nombre, ou « Passer » si le nombre n'est pas limité."
        )

    async def typed(self, turn: Turn, text: str) -> Transition:
        if not text.isdigit() or not 1 <= int(text) <= 10_000:
            return Retry(
                turn.t._(
                    "« {given} » n'est pas un nombre de places. Tapez un nombre comme 30, "
                    "ou « Passer ».",
                    given=text[:20],
                )
            )
        turn.answers["capacity"] = int(text)
        return Goto(Openness.name)

    async def skipped(self, turn: Turn) -> Transition:
        turn.answers["capacity"] = None
        return Goto(Openness.name)


class Openness(ChoiceStep):
    """A training or a forum may be open beyond the committee; a statutory meeting is not.
    An open session also takes anyone who finds it in /sessions and registers."""

    name = "openness"

    async def enter(self, turn: Turn) -> Goto | Finish | None:
        if turn.answers.get("kind") == "statutory":
            turn.answers["open_to"] = None
            return Goto(Confirm.name)
        return None

    async def question(self, turn: Turn) -> str:
        return turn.t._(
            "Qui invitez-vous ? Une session ouverte accepte aussi toute personne qui s'y "
            "inscrit depuis /sessions."
        )

    async def options(self, turn: Turn) -> Sequence[Option]:
        t = turn.t
        return [
            Option("members", t._("🏛️ Les membres du comité seulement")),
            Option("committee", t._("🤝 Les membres et un autre comité")),
            Option("focal_points", t._("🧭 Les membres et les points focaux")),
            Option("subscribers", t._("📢 Les membres et les abonnés aux alertes d'une zone")),
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        turn.answers["open_to"] = None if key == "members" else key
        turn.answers.pop("open_area", None)
        turn.answers.pop("open_committee", None)
        if key == "committee":
            return Goto(GuestCommittee.name)
        if key == "subscribers":
            return Goto(AudienceArea.name)
        return Goto(Confirm.name)


class GuestCommittee(ChoiceStep):
    name = "guest_committee"
    columns = 2

    async def question(self, turn: Turn) -> str:
        return turn.t._("Quel comité invitez-vous ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        own = int(turn.answers["committee"])
        return [
            Option(str(c.id), c.name)
            for c in await committees.all_committees(turn.conn)
            if c.id != own
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        turn.answers["open_committee"] = int(key)
        return Goto(Confirm.name)


class AudienceArea(ChoiceStep):
    """The committee's own commune first: the usual choice, one press."""

    name = "audience_area"
    columns = 2

    async def question(self, turn: Turn) -> str:
        return turn.t._("Les abonnés de quelle zone ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        t = turn.t
        committee = await committees.get(turn.conn, int(turn.answers["committee"]))
        first = []
        if committee is not None and committee.commune:
            first.append(Option(f"own:{committee.commune}", scope_name(t, committee.commune)))
        return [
            *first,
            Option(ALL_MALI, t._("🇲🇱 Tout le Mali")),
            *(
                Option(r.code, r.name, places.REGION_ALIASES.get(r.code, ()))
                for r in places.REGIONS
            ),
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key == places.BAMAKO.code:
            return Goto(AudienceCommune.name)
        turn.answers["open_area"] = None if key == ALL_MALI else key.removeprefix("own:")
        return Goto(Confirm.name)


class AudienceCommune(ChoiceStep):
    name = "audience_commune"
    columns = 2

    async def question(self, turn: Turn) -> str:
        return turn.t._("Tout Bamako, ou une commune ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [
            Option(places.BAMAKO.code, turn.t._("Tout Bamako")),
            *(Option(c.code, c.name) for c in places.BAMAKO.cercles),
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        turn.answers["open_area"] = key
        return Goto(Confirm.name)


class Confirm(ChoiceStep):
    name = "confirm"

    async def question(self, turn: Turn) -> str:
        t = turn.t
        committee = await committees.get(turn.conn, int(turn.answers["committee"]))
        members = await sessions.members(turn.conn, int(turn.answers["committee"]))
        starts_at = datetime.fromisoformat(str(turn.answers["starts_at"]))
        kind = t._(KIND_NAMES[str(turn.answers["kind"])])
        lines = [
            t._("Vérifiez la session :"),
            f"🏛️ {committee.name if committee else ''} · {kind}",
            f"« {turn.answers['title']} »",
            t._("🗓️ {when}", when=when(t, starts_at)),
            t._("📍 {place}", place=turn.answers["place"]),
        ]
        if turn.answers.get("agenda"):
            lines.append(t._("📝 Ordre du jour : {agenda}", agenda=turn.answers["agenda"]))
        if turn.answers.get("summary"):
            lines.append(t._("ℹ️ {summary}", summary=turn.answers["summary"]))
        if turn.answers.get("capacity"):
            lines.append(
                t.ngettext(
                    "👥 {n} place, puis liste d'attente",
                    "👥 {n} places, puis liste d'attente",
                    int(turn.answers["capacity"]),
                )
            )
        lines.append(
            t.ngettext("{n} membre sera invité.", "{n} membres seront invités.", len(members))
        )
        open_to = turn.answers.get("open_to")
        if open_to == "committee":
            guest = await committees.get(turn.conn, int(turn.answers["open_committee"]))
            if guest is not None:
                lines.append(
                    t._("🤝 Les membres de {committee} sont invités aussi.", committee=guest.name)
                )
        elif open_to == "focal_points":
            lines.append(t._("🧭 Les points focaux sont invités aussi."))
        elif open_to == "subscribers":
            lines.append(
                t._(
                    "📢 Les abonnés aux alertes de cette zone sont invités aussi : {area}",
                    area=scope_name(t, turn.answers.get("open_area")),
                )
            )
        if open_to:
            lines.append(t._("🔓 Session ouverte : chacun peut s'inscrire depuis /sessions."))
        return "\n".join(lines)

    async def options(self, turn: Turn) -> Sequence[Option]:
        t = turn.t
        repeat: list[Option] = []
        if turn.answers.get("kind") == "statutory":
            local = datetime.fromisoformat(str(turn.answers["starts_at"]))
            nth, weekday = rule_for(local.date())
            repeat.append(
                Option(
                    "repeat",
                    t._(
                        "🔁 Créer et répéter {rule}",
                        rule=describe_rule(t, nth, weekday, local.time()),
                    ),
                )
            )
        return [
            Option("create", turn.t._("✅ Créer et inviter")),
            *repeat,
            Option("when", turn.t._("🗓️ Changer la date")),
            Option("title", turn.t._("✏️ Changer le titre")),
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key == "when":
            return Goto(SessionDay.name)
        if key == "title":
            return Goto(Title.name)
        committee = await committees.get(turn.conn, int(turn.answers["committee"]))
        if committee is None or not await committees.may_manage(turn.conn, turn.user.id, committee):
            await refuse(turn, "session:new", "sessions")
            return Finish()
        starts_at = datetime.fromisoformat(str(turn.answers["starts_at"]))
        if starts_at <= turn.now:
            turn.note(turn.t._("Cette heure est passée entre-temps. Donnez une autre date."))
            return Goto(SessionDay.name)
        rule_id = None
        if key == "repeat":
            nth, weekday = rule_for(starts_at.date())
            rule_id = await sessions.add_rule(
                turn.conn,
                committee_id=committee.id,
                nth=nth,
                weekday=weekday,
                local_time=starts_at.strftime("%H:%M"),
                title=str(turn.answers["title"]),
                place=str(turn.answers["place"]),
                kind=str(turn.answers["kind"]),
                created_by=turn.user.id,
                now=turn.now,
            )
        created = await sessions.create(
            turn.conn,
            committee_id=committee.id,
            kind=str(turn.answers["kind"]),
            title=str(turn.answers["title"]),
            starts_at=starts_at,
            place=str(turn.answers["place"]),
            agenda=turn.answers.get("agenda"),
            summary=turn.answers.get("summary"),
            checkin_code=new_code(),
            created_by=turn.user.id,
            now=turn.now,
            rule_id=rule_id,
            capacity=turn.answers.get("capacity"),
            open_to=turn.answers.get("open_to"),
            open_area=turn.answers.get("open_area"),
            open_committee=turn.answers.get("open_committee"),
        )
        assert created is not None  # a new rule has no session yet: never a duplicate
        ctx = Context.of(turn)
        invited = await invite_members(ctx, created)
        await queue_roll_call(ctx, created, turn.user)
        t = turn.t
        if rule_id is not None:
            rules = [r for r in await sessions.active_rules(turn.conn) if r.id == rule_id]
            more = await fill(ctx, rules)
            turn.say(
                t.ngettext(
                    "🔁 Répétée chaque mois : {n} autre session déjà créée et ses invitations "
                    "envoyées.",
                    "🔁 Répétée chaque mois : {n} autres sessions déjà créées et leurs "
                    "invitations envoyées.",
                    more,
                )
            )
        turn.say(
            t.ngettext(
                "✅ Session créée, {n} invitation envoyée.",
                "✅ Session créée, {n} invitations envoyées.",
                invited,
            )
            + "\n\n"
            + describe(t, created)
            + "\n\n"
            + t._(
                "🔢 Code de présence : {code} (à lire aux participants le jour même). "
                "/sessions pour la suivre, la déplacer ou l'annuler.",
                code=created.checkin_code,
            )
        )
        return Finish()


def new_session_flow() -> Flow:
    return Flow(
        NEW_SESSION_FLOW,
        [
            CommitteeChoice(),
            Kind(),
            Title(),
            SessionDay(SessionHour.name),
            SessionHour(Place.name),
            Place(),
            Agenda(),
            Summary(),
            Capacity(),
            Openness(),
            GuestCommittee(),
            AudienceArea(),
            AudienceCommune(),
            Confirm(),
        ],
    )

"""`/export [participation] [PERIOD] [FORMAT]`: a coordinator asks for a data file.

The command only records the request, in the coordinator's turn, with a "preparing…" message
queued in the outbox (its message id lets the worker edit it with the progress later); the
file is built by the export worker (handlers/exports/worker.py) outside anyone's turn, so a
large export never holds the transaction other users' messages are handled in. Words come in
any order; the period is read as /participation reads it (`handlers.ccsc.figures.period_for`),
this month by default; the format is a name of the registry (`handlers.exports.formats`), CSV
by default. Only coordinators export; anyone else is refused, and the refusal audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.flow import Retry, Silence, Transition, Turn
from bot.i18n import Translator
from bot.inbound import CommandEvent
from handlers.ccsc.figures import Period, period_for
from handlers.exports.datasets import DATASETS
from handlers.exports.formats import DEFAULT_FORMAT, FORMATS, Format, find, for_dataset
from handlers.exports.texts import started_key, started_text, what_text
from handlers.refusal import refuse
from storage import audit, exports, outbox, roles
from storage.outbox import Outgoing
from storage.roles import Role

#: words naming a dataset, in French and English
DATASET_WORDS: dict[str, str] = {
    "participation": "participation",
    "presence": "participation",
    "présence": "participation",
    "signalements": "reports",
    "reports": "reports",
    "incidents": "reports",
}


@dataclass(frozen=True)
class ExportRequest:
    dataset: str
    format: Format
    period: Period


def usage(t: Translator) -> str:
    return t._(
        "Utilisation : /export [PÉRIODE] [FORMAT] pour les signalements validés, ou /export "
        "participation [PÉRIODE] [FORMAT] pour la participation aux sessions CCS-C.\n"
        "PÉRIODE : mois (par défaut), semaine, annee, un mois comme 2026-03, une année comme "
        "2026, ou des dates comme 2026-01-01..2026-03-31.\n"
        "FORMAT : {reports} pour les signalements, {participation} pour la participation "
        "(csv par défaut).\nExemple : /export mois xlsx",
        reports=", ".join(for_dataset("reports")),
        participation=", ".join(for_dataset("participation")),
    )


def parse(t: Translator, args: str, today: date) -> ExportRequest | str:
    """The request, or what is wrong with it (translated, the usage added)."""
    dataset = "reports"
    chosen: Format | None = None
    period_words: list[str] = []
    for word in args.lower().split()[:6]:
        if word in DATASET_WORDS:
            dataset = DATASET_WORDS[word]
        elif (found := find(word)) is not None:
            if chosen is not None and chosen is not found:
                return t._("Donnez un seul format.") + "\n" + usage(t)
            chosen = found
        else:
            period_words.append(word)
    if len(period_words) > 1:
        return (
            t._("Je ne comprends pas « {words} ».", words=" ".join(period_words)[:40])
            + "\n"
            + usage(t)
        )
    period_word = period_words[0] if period_words else ""
    period = period_for(period_word, today)
    if period is None:
        return (
            t._("Je ne comprends pas la période « {period} ».", period=period_word[:30])
            + "\n"
            + usage(t)
        )
    format_ = chosen or FORMATS[DEFAULT_FORMAT]
    if dataset not in format_.datasets:
        return (
            t._(
                "Le format {format} n'existe pas pour cet export : choisissez {formats}.",
                format=format_.name,
                formats=", ".join(for_dataset(dataset)),
            )
            + "\n"
            + usage(t)
        )
    return ExportRequest(dataset, format_, period)


async def export(turn: Turn, event: CommandEvent) -> Transition:
    t = turn.t
    if not await roles.has_role(turn.conn, turn.user.id, Role.COORDINATOR):
        await refuse(turn, "export", "exports")
        return Retry()
    today = turn.now.astimezone(turn.settings.timezone).date()
    parsed = parse(t, event.args, today)
    if isinstance(parsed, str):
        turn.note(parsed)
        return Retry()
    if await exports.unfinished_of(turn.conn, turn.user.id) is not None:
        turn.note(
            t._(
                "⏳ Un export est déjà en préparation pour vous : attendez son fichier avant "
                "d'en demander un autre."
            )
        )
        return Retry()
    period = parsed.period
    assert parsed.dataset in DATASETS
    job_id = await exports.request(
        turn.conn,
        user_id=turn.user.id,
        channel=turn.user.channel,
        chat_id=turn.user.chat_id,
        language=t.language,
        dataset=parsed.dataset,
        format=parsed.format.name,
        start=period.start,
        end=period.end,
        now=turn.now,
    )
    await audit.record(
        turn.conn,
        turn.now,
        "export",
        turn.user.id,
        f"export:{job_id}",
        f"{parsed.dataset} {parsed.format.name} {period.start}..{period.end}",
    )
    what = what_text(t, parsed.dataset, period.start, period.end, parsed.format.name)
    await outbox.enqueue(
        turn.conn,
        key=started_key(job_id),
        kind="export",
        channel=turn.user.channel,
        chat_id=turn.user.chat_id,
        user_id=turn.user.id,
        outgoing=Outgoing(started_text(t, what)),
        now=turn.now,
    )
    # The answer is the outbox row just queued (its id is what the progress edits): the
    # channel kicks the sender and the export worker once this turn is committed.
    return Silence()

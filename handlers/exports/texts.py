"""What the coordinator reads about an export, from the command and from the worker alike,
and the outbox keys of those messages (one per export and purpose, so a worker that runs a
request again after a restart queues nothing twice)."""

from __future__ import annotations

from datetime import date, timedelta

from bot.i18n import N_, Translator

#: dataset name -> French description, for messages
DATASET_NAMES: dict[str, str] = {
    "reports": N_("signalements validés"),
    "participation": N_("participation aux sessions CCS-C"),
}


def started_key(job_id: int) -> str:
    """The "preparing…" message, which progress and the outcome edit later."""
    return f"export:{job_id}:started"


def progress_key(job_id: int, percent: int) -> str:
    return f"export:{job_id}:progress:{percent}"


def outcome_key(job_id: int) -> str:
    return f"export:{job_id}:outcome"


#: the row that carries the file (the purge waits for it); `{id}` is the export's id
FILE_KEY = "export:{id}:file"


def file_key(job_id: int) -> str:
    return FILE_KEY.format(id=job_id)


def period_text(t: Translator, start: date, end: date) -> str:
    """'du 1 mars 2026 au 31 mars 2026' (`end` is the day after the last)."""
    return t._(
        "du {start} au {end}",
        start=t.date(start, "long"),
        end=t.date(end - timedelta(days=1), "long"),
    )


def what_text(t: Translator, dataset: str, start: date, end: date, format_name: str) -> str:
    """'signalements validés du 1 mars 2026 au 31 mars 2026, XLSX'"""
    return t._(
        "{what} {period}, {format}",
        what=t._(DATASET_NAMES.get(dataset, dataset)),
        period=period_text(t, start, end),
        format=format_name.upper(),
    )


def started_text(t: Translator, what: str) -> str:
    return t._(
        "⏳ Export en préparation : {what}. Le fichier arrivera ici ; vous pouvez continuer "
        "à utiliser Kibaru en attendant.",
        what=what,
    )


def progress_text(t: Translator, what: str, percent: int) -> str:
    return t._("⏳ Export : {percent} % ({what})", percent=t.number(percent), what=what)


def ready_text(t: Translator, what: str, rows: int) -> str:
    return t.ngettext(
        "✅ Export prêt : {what}, {n} ligne. Le fichier suit.",
        "✅ Export prêt : {what}, {n} lignes. Le fichier suit.",
        rows,
        what=what,
    )


def file_text(t: Translator, dataset: str) -> str:
    if dataset == "reports":
        return t._(
            "📎 Sous le titre de chaque colonne, une ligne de codes HXL (#event+id, "
            "#adm1+name…) que les outils d'analyse lisent directement. Aucune donnée sur les "
            "personnes qui ont signalé n'y figure."
        )
    return t._(
        "📎 Sous le titre de chaque colonne, une ligne de codes HXL (#org+name, "
        "#reached+participants…) que les outils d'analyse lisent directement."
    )


def failed_text(t: Translator) -> str:
    return t._(
        "😕 L'export n'a pas pu être préparé, à cause d'un problème technique. Réessayez "
        "plus tard ; si cela se répète, prévenez l'équipe technique."
    )


def refused_text(t: Translator) -> str:
    return t._(
        "⛔ L'export n'a pas été préparé : vous n'êtes plus coordinateur. Demandez à un "
        "coordinateur de vérifier votre rôle."
    )


def too_large_text(t: Translator) -> str:
    return t._(
        "😕 Ce fichier serait trop gros pour être envoyé ici (plus de 50 Mo). Demandez une "
        "période plus courte, ou le format csv ou xlsx, plus compacts."
    )

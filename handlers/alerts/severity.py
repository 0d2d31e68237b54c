"""The four severities of an alert, with a colour and plain words.

A colour dot is read at a glance by someone who reads little; the plain words say what to do.
The review part shows the same dots and words on the alerts themselves, so both come from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_, Translator


@dataclass(frozen=True)
class Severity:
    level: int
    emoji: str
    #: the severity's name (marked with N_)
    name: str
    #: what it means for the person who receives it, in plain words (marked with N_)
    meaning: str
    #: the answer to "which alerts do you want?", for a subscription from this level (N_)
    from_here: str


SEVERITIES: tuple[Severity, ...] = (
    Severity(1, "⚪", N_("information"), N_("pour savoir"), N_("Tout, même les informations")),
    Severity(2, "🟡", N_("vigilance"), N_("restez attentifs"), N_("Vigilance et plus grave")),
    Severity(3, "🟠", N_("alerte"), N_("danger proche, préparez-vous"), N_("Alerte et plus grave")),
    Severity(
        4, "🔴", N_("urgence"), N_("danger immédiat, protégez-vous"), N_("Urgences seulement")
    ),
)


def severity(level: int) -> Severity:
    """The severity of a level, clamped to 1–4 (a bad stored value never fails a message)."""
    return SEVERITIES[min(max(level, 1), len(SEVERITIES)) - 1]


def label(t: Translator, level: int) -> str:
    """ "🟠 alerte": the dot and the name."""
    found = severity(level)
    return f"{found.emoji} {t._(found.name)}"


def legend(t: Translator) -> str:
    """One line per severity: dot, number, name and meaning."""
    return "\n".join(
        t._(
            "{emoji} {number} {name} : {meaning}",
            emoji=s.emoji,
            number=t.number(s.level),
            name=t._(s.name),
            meaning=t._(s.meaning),
        )
        for s in SEVERITIES
    )

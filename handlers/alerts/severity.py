"""The four severities as a subscriber chooses them: the review's dots and names
(`handlers.review.severity`), with plain words for what each means and what to pick.

A colour dot is read at a glance by someone who reads little; the plain words say what to do.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_, Translator
from handlers.review import severity as review


@dataclass(frozen=True)
class Severity:
    level: int
    emoji: str
    #: the severity's name, as on the alerts themselves (marked with N_)
    name: str
    #: what it means for the person who receives it, in plain words (marked with N_)
    meaning: str
    #: the answer to "which alerts do you want?", for a subscription from this level (N_)
    from_here: str


_WORDS: dict[int, tuple[str, str]] = {
    1: (N_("pour savoir"), N_("Tout, même les informations")),
    2: (N_("restez attentifs"), N_("Vigilance et plus grave")),
    3: (N_("danger proche, préparez-vous"), N_("Alerte et plus grave")),
    4: (N_("danger immédiat, protégez-vous"), N_("Urgences seulement")),
}

SEVERITIES: tuple[Severity, ...] = tuple(
    Severity(level, *review.SEVERITIES[level], *_WORDS[level]) for level in sorted(_WORDS)
)


def severity(level: int) -> Severity:
    """The severity of a level, clamped to 1–4 (a bad stored value never fails a message)."""
    return SEVERITIES[min(max(level, 1), len(SEVERITIES)) - 1]


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

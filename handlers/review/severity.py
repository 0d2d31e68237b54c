"""The four severities of an alert, as validators choose them and recipients read them."""

from __future__ import annotations

from bot.i18n import N_, Translator

#: level -> (colour emoji, French name); colours carry the meaning for people who read little
SEVERITIES: dict[int, tuple[str, str]] = {
    1: ("⚪", N_("Information")),
    2: ("🟡", N_("Vigilance")),
    3: ("🟠", N_("Alerte")),
    4: ("🔴", N_("Urgence")),
}


def severity_label(t: Translator, level: int) -> str:
    emoji, name = SEVERITIES[level]
    return f"{emoji} {t._(name)} ({level}/4)"

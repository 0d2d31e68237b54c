"""The help text and the "coming soon" notice, built from the command table."""

from __future__ import annotations

from bot.i18n import Translator
from handlers.commands import COMMANDS, command_language


def help_text(t: Translator) -> str:
    names = command_language(t.language)
    lines = [
        t._("ℹ️ Kibaru est le service d'alerte précoce communautaire. Vous pouvez :"),
        "",
    ]
    lines += [f"/{c.name_for(names)} — {t._(c.description)}" for c in COMMANDS if c.listed]
    lines += [
        "",
        t._("À chaque question, touchez un bouton ou tapez son numéro."),
        t._("Pour ne plus recevoir d'alertes, envoyez STOP à tout moment."),
    ]
    return "\n".join(lines)


def coming_soon(t: Translator) -> str:
    return t._("🚧 Cette fonction arrive bientôt dans Kibaru.")

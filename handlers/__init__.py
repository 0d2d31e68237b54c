"""The features, channel-neutral: each module is one part of what users can do."""

from __future__ import annotations

from bot.engine import Features
from bot.i18n import Catalogs
from handlers.commands import COMMANDS
from handlers.help import coming_soon, help_text
from handlers.language import LANGUAGE_FLOW, WELCOME_FLOW, language_flow, welcome_flow
from handlers.menu import MENU_FLOW, menu_flow
from handlers.privacy import FORGET_FLOW, forget_flow

#: main-menu entries and their flows; None until the issue that builds them lands
ENTRIES: dict[str, str | None] = {
    "report": None,
    "myreports": None,
    "alerts": None,
    "sessions": None,
}


def build_features(catalogs: Catalogs) -> Features:
    flows = [
        menu_flow(ENTRIES, LANGUAGE_FLOW, help_text, coming_soon),
        welcome_flow(catalogs),
        language_flow(catalogs),
        forget_flow(),
    ]
    return Features(
        flows={f.name: f for f in flows},
        commands=COMMANDS,
        entries=ENTRIES,
        menu_flow=MENU_FLOW,
        welcome_flow=WELCOME_FLOW,
        language_flow=LANGUAGE_FLOW,
        forget_flow=FORGET_FLOW,
        help_text=help_text,
        coming_soon=coming_soon,
    )

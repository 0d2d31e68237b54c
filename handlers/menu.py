"""The main menu: where every conversation rests between flows."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from bot.flow import Begin, ChoiceStep, Flow, Option, Retry, Transition, Turn
from bot.i18n import Translator

MENU_FLOW = "menu"


class MainMenu(ChoiceStep):
    name = "main"
    navigation = False
    columns = 2

    def __init__(
        self,
        entries: Mapping[str, str | None],
        language_flow: str,
        help_text: Callable[[Translator], str],
        coming_soon: Callable[[Translator], str],
    ) -> None:
        self.entries = entries
        self.language_flow = language_flow
        self.help_text = help_text
        self.coming_soon = coming_soon

    async def question(self, turn: Turn) -> str:
        return turn.t._("Que voulez-vous faire ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        t = turn.t
        return (
            Option("report", t._("🚨 Signaler un incident"), ("signaler", "report")),
            Option("myreports", t._("📋 Mes signalements"), ("myreports",)),
            Option("alerts", t._("🔔 Alertes"), ("alerts", "alertes")),
            Option("sessions", t._("🏛️ Sessions CCS-C"), ("sessions", "ccsc")),
            Option("help", t._("❓ Aide"), ("aide", "help")),
            Option("language", t._("🌐 Langue"), ("langue", "language")),
        )

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key == "help":
            turn.note(self.help_text(turn.t))
            return Retry()
        if key == "language":
            return Begin(self.language_flow)
        flow = self.entries.get(key)
        if flow is None:
            turn.note(self.coming_soon(turn.t))
            return Retry()
        return Begin(flow)


def menu_flow(
    entries: Mapping[str, str | None],
    language_flow: str,
    help_text: Callable[[Translator], str],
    coming_soon: Callable[[Translator], str],
) -> Flow:
    return Flow(MENU_FLOW, [MainMenu(entries, language_flow, help_text, coming_soon)])

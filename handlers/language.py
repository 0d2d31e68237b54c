"""Choosing a language: the first question of onboarding, and `/langue` at any time."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from bot.flow import ChoiceStep, Finish, Flow, Option, Retry, Transition, Turn
from bot.i18n import LANGUAGE_NAMES, SHIPPED_LANGUAGES, Catalogs
from bot.inbound import InboundEvent
from handlers.privacy import privacy_notice
from storage import users

WELCOME_FLOW = "welcome"
LANGUAGE_FLOW = "language"

#: what people type for a language, in the languages they are likely to type it in
_ALIASES: dict[str, tuple[str, ...]] = {
    "fr": ("francais", "french", "faransi", "faransikan"),
    "bm": ("bambara", "bamana", "bamanan", "bamankan"),
    "en": ("anglais", "angile", "angilekan"),
}


class ChooseLanguage(ChoiceStep):
    name = "choose"

    def __init__(self, catalogs: Catalogs, onboarding: bool) -> None:
        self.catalogs = catalogs
        self.onboarding = onboarding
        # A new user has nothing to go back to: the language comes first.
        self.navigation = not onboarding

    async def question(self, turn: Turn) -> str:
        if not self.onboarding:
            return turn.t._("Choisissez votre langue :")
        # The user has not chosen yet: greet them in every language so everyone can read one.
        lines = [
            self.catalogs.get(lang)._("👋 Bienvenue sur Kibaru ! Choisissez votre langue :")
            for lang in SHIPPED_LANGUAGES
        ]
        return "\n".join(dict.fromkeys(lines))

    async def answer(self, turn: Turn, event: InboundEvent) -> Transition:
        transition = await super().answer(turn, event)
        if self.onboarding and isinstance(transition, Retry):
            # No language chosen yet: say what to do in every language, like the question.
            lines = [
                self.catalogs.get(lang)._(
                    "Touchez un bouton ou tapez son numéro (1 à {last}).",
                    last=self.catalogs.get(lang).number(len(SHIPPED_LANGUAGES)),
                )
                for lang in SHIPPED_LANGUAGES
            ]
            return Retry("\n".join(dict.fromkeys(lines)))
        return transition

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [
            Option(lang, LANGUAGE_NAMES[lang], _ALIASES.get(lang, ())) for lang in SHIPPED_LANGUAGES
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        await users.set_language(turn.conn, turn.user.id, key)
        turn.user = dataclasses.replace(turn.user, language=key)
        turn.language_changed = True
        t = self.catalogs.get(key)
        if self.onboarding:
            turn.note(privacy_notice(t))
        else:
            turn.note(t._("✅ Langue choisie : {language}.", language=LANGUAGE_NAMES[key]))
        return Finish()


def welcome_flow(catalogs: Catalogs) -> Flow:
    return Flow(WELCOME_FLOW, [ChooseLanguage(catalogs, onboarding=True)])


def language_flow(catalogs: Catalogs) -> Flow:
    return Flow(LANGUAGE_FLOW, [ChooseLanguage(catalogs, onboarding=False)])

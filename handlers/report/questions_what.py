"""What happened, who was affected, the evidence, and whether the analysts may get back to the
reporter. A voice note is as good as text for the description: many reporters read little."""

from __future__ import annotations

from collections.abc import Sequence

from bot.flow import ChoiceStep, Option, Retry, Step, TextStep, Transition, Turn
from bot.inbound import (
    ChoiceEvent,
    ContactEvent,
    InboundEvent,
    MediaEvent,
    MediaKind,
    TextEvent,
)
from bot.matching import normalize
from bot.outbound import Button, KeyboardRequest, Message, Question, RemoveKeyboard, Request
from handlers.report.flow import keep_editing, next_step
from handlers.report.media import MAX_EVIDENCE, keep_media
from storage import reports


async def _evidence_count(turn: Turn) -> int:
    media = await reports.draft_media(turn.conn, turn.user.id)
    return sum(1 for item in media if item.purpose == "evidence")


class WhatHappened(TextStep):
    name = "what"
    min_words = 3

    async def question(self, turn: Turn) -> str:
        return turn.t._(
            "📝 Racontez ce qui s'est passé, en quelques mots : qui, quoi, combien. "
            "Vous pouvez aussi envoyer un message vocal 🎤 ou une photo avec une légende."
        )

    async def typed(self, turn: Turn, text: str) -> Transition:
        if turn.answers.pop("description_media", None):  # text now replaces a voice note
            turn.files_to_delete.extend(
                await reports.drop_draft_media(turn.conn, turn.user.id, "description")
            )
        turn.answers["description"] = text[:4000]
        return next_step(turn, "people")

    async def media(self, turn: Turn, event: MediaEvent) -> Transition:
        if event.media not in (MediaKind.VOICE, MediaKind.AUDIO, MediaKind.VIDEO_NOTE) and not (
            event.caption and len(event.caption.split()) >= 1
        ):
            return Retry(
                turn.t._(
                    "Ajoutez une légende à la photo ou à la vidéo, ou envoyez un message "
                    "vocal, pour dire ce qui s'est passé."
                )
            )
        # a new voice note replaces the previous one (its file goes after the commit)
        turn.files_to_delete.extend(
            await reports.drop_draft_media(turn.conn, turn.user.id, "description")
        )
        problem = await keep_media(turn, event, "description")
        if problem:
            return Retry(problem)
        turn.answers["description"] = (event.caption or "")[:1000]
        turn.answers["description_media"] = event.media.value
        return next_step(turn, "people")


class People(ChoiceStep):
    name = "people"

    async def question(self, turn: Turn) -> str:
        return turn.t._("👥 Y a-t-il des personnes tuées, blessées, disparues ou déplacées ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        t = turn.t
        return (
            Option("yes", t._("Oui"), ("oui", "yes", "awo")),
            Option("no", t._("Non, personne"), ("non", "no", "ayi")),
            Option("unknown", t._("Je ne sais pas"), ("sais pas", "unknown")),
        )

    async def chosen(self, turn: Turn, key: str) -> Transition:
        turn.answers["people"] = key
        figures = ("killed", "injured", "missing", "displaced")
        if key == "yes":
            keep_editing(turn, *figures)
            return next_step(turn, "killed")
        for figure in figures:
            turn.answers[figure] = 0 if key == "no" else None
        return next_step(turn, "evidence")


_ZERO_WORDS = {"aucun", "aucune", "personne", "zero", "none", "no one", "foyi", "si"}
_UNKNOWN = "unknown"


class Figure(Step):
    """One number: killed, injured, missing/kidnapped or displaced; 0 and "don't know" are
    buttons, any number can be typed; a clearly absurd number is questioned once."""

    def __init__(self, name: str, following: str, absurd: int) -> None:
        self.name = name
        self.following = following
        self.absurd = absurd

    def _question(self, turn: Turn) -> str:
        t = turn.t
        return {
            "killed": t._("Combien de personnes tuées ?"),
            "injured": t._("Combien de personnes blessées ?"),
            "missing": t._("Combien de personnes disparues ou enlevées ?"),
            "displaced": t._("Combien de personnes déplacées (qui ont fui) ?"),
        }[self.name]

    async def ask(self, turn: Turn) -> Message:
        return Question(
            turn.t._(
                "{question} Écrivez un nombre, ou touchez un bouton.", question=self._question(turn)
            ),
            choices=(Button("0", "0"), Button(_UNKNOWN, turn.t._("Je ne sais pas"))),
            columns=2,
            numbered=False,
        )

    async def answer(self, turn: Turn, event: InboundEvent) -> Transition:
        t = turn.t
        value: int | None
        if isinstance(event, ChoiceEvent) and event.key in ("0", _UNKNOWN):
            value = 0 if event.key == "0" else None
        elif isinstance(event, TextEvent) and event.text.strip().startswith("-"):
            return Retry(t._("Écrivez un nombre (par exemple 3), ou touchez « Je ne sais pas »."))
        elif isinstance(event, TextEvent):
            typed = normalize(event.text).replace(" ", "")
            if normalize(event.text) in _ZERO_WORDS:
                value = 0
            elif normalize(event.text) in {normalize(t._("Je ne sais pas")), "sais pas", "?"}:
                value = None
            elif typed.isdigit():
                value = int(typed)
            else:
                return Retry(
                    t._("Écrivez un nombre (par exemple 3), ou touchez « Je ne sais pas ».")
                )
            if value is not None and value >= self.absurd:
                pending = f"_confirm_{self.name}"
                if turn.answers.get(pending) != value:
                    turn.answers[pending] = value
                    return Retry(
                        t._(
                            "{number}, c'est beaucoup. Si c'est bien le bon nombre, écrivez-le "
                            "encore une fois ; sinon, corrigez-le.",
                            number=t.number(value),
                        )
                    )
                turn.answers.pop(pending, None)
        else:
            return Retry(t._("Écrivez un nombre (par exemple 3), ou touchez « Je ne sais pas »."))
        turn.answers[self.name] = value
        return next_step(turn, self.following)


class Evidence(Step):
    """Up to five photos, videos, voice notes or documents, then "done"; or skip."""

    name = "evidence"

    async def ask(self, turn: Turn) -> Message:
        t = turn.t
        count = await _evidence_count(turn)
        if count:
            text = t.ngettext(
                "📎 {n} fichier reçu. Envoyez-en d'autres (jusqu'à {limit}), "
                "ou touchez « Terminé ».",
                "📎 {n} fichiers reçus. Envoyez-en d'autres (jusqu'à {limit}), "
                "ou touchez « Terminé ».",
                count,
                limit=t.number(MAX_EVIDENCE),
            )
            return Question(text, choices=(Button("done", t._("✅ Terminé")),), numbered=False)
        return Question(
            t._(
                "📎 Avez-vous des photos, vidéos, messages vocaux ou documents ? Envoyez-les "
                "(jusqu'à {limit}), ou touchez « Passer ». Pensez à votre sécurité : ne prenez "
                "pas de risque pour une photo.",
                limit=t.number(MAX_EVIDENCE),
            ),
            choices=(Button("done", t._("⏭️ Passer")),),
            numbered=False,
        )

    async def answer(self, turn: Turn, event: InboundEvent) -> Transition:
        t = turn.t
        if isinstance(event, MediaEvent):
            problem = await keep_media(turn, event, "evidence")
            if problem:
                return Retry(problem)
            count = await _evidence_count(turn)
            if count >= MAX_EVIDENCE:
                turn.note(t._("C'est le maximum de fichiers pour un signalement."))
                return next_step(turn, "contact")
            return Retry()
        if isinstance(event, ChoiceEvent) and event.key == "done":
            return next_step(turn, "contact")
        if isinstance(event, TextEvent) and normalize(event.text) in {
            normalize(t._("✅ Terminé")),
            normalize(t._("⏭️ Passer")),
            "termine",
            "fini",
            "passer",
            "done",
            "skip",
        }:
            return next_step(turn, "contact")
        return Retry(
            t._(
                "Envoyez une photo, une vidéo, un message vocal ou un document, "
                "ou touchez le bouton."
            )
        )


class Contact(ChoiceStep):
    name = "contact"

    async def question(self, turn: Turn) -> str:
        return turn.t._(
            "🔒 Les analystes peuvent-ils vous recontacter ? Par défaut, votre signalement est "
            "anonyme : ils ne voient ni votre nom ni votre numéro."
        )

    async def options(self, turn: Turn) -> Sequence[Option]:
        t = turn.t
        return (
            Option("anonymous", t._("🙈 Rester anonyme"), ("anonyme", "anonymous")),
            Option("via_bot", t._("💬 Oui, par Kibaru"), ("kibaru", "bot")),
            Option("phone", t._("📞 Donner mon numéro"), ("numero", "phone", "telephone")),
        )

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key == "phone":
            keep_editing(turn, "phone")
            return next_step(turn, "phone")
        turn.answers["contact"] = key
        turn.answers.pop("contact_phone", None)
        return next_step(turn, "summary")


class Phone(Step):
    name = "phone"

    def _anonymous_label(self, turn: Turn) -> str:
        return turn.t._("🙈 Rester anonyme")

    async def ask(self, turn: Turn) -> Message:
        return Request(
            turn.t._("Touchez le bouton ci-dessous pour partager votre numéro."),
            KeyboardRequest.CONTACT,
            turn.t._("📞 Partager mon numéro"),
            alternatives=(self._anonymous_label(turn),),
        )

    async def answer(self, turn: Turn, event: InboundEvent) -> Transition:
        t = turn.t
        if isinstance(event, ContactEvent):
            if not event.own:
                return Retry(t._("Partagez votre propre numéro, avec le bouton ci-dessous."))
            turn.answers.update(contact="phone", contact_phone=event.phone[:32])
            turn.out.append(RemoveKeyboard(t._("📞 Numéro reçu.")))
            return next_step(turn, "summary")
        if isinstance(event, TextEvent) and normalize(event.text) in {
            normalize(self._anonymous_label(turn)),
            "anonyme",
            "anonymous",
        }:
            turn.answers["contact"] = "anonymous"
            turn.answers.pop("contact_phone", None)
            turn.out.append(RemoveKeyboard(t._("D'accord, vous restez anonyme.")))
            return next_step(turn, "summary")
        return Retry(t._("Touchez « 📞 Partager mon numéro », ou « 🙈 Rester anonyme »."))


def figure_steps() -> list[Step]:
    return [
        Figure("killed", "injured", absurd=500),
        Figure("injured", "missing", absurd=1000),
        Figure("missing", "displaced", absurd=500),
        Figure("displaced", "evidence", absurd=100_000),
    ]

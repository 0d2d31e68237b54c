"""Where it happened: a location pin, or region → cercle (Bamako: commune) or a typed locality,
then an optional detail (village, quartier, road). The precision is kept as ACLED does."""

from __future__ import annotations

from collections.abc import Sequence

from bot.flow import ChoiceStep, Goto, Option, Retry, Step, TextStep, Transition, Turn
from bot.inbound import InboundEvent, LocationEvent, MediaEvent, MediaKind, TextEvent
from bot.matching import normalize
from bot.outbound import KeyboardRequest, Message, RemoveKeyboard, Request
from handlers.report import places
from handlers.report.flow import keep_editing, next_step
from handlers.report.media import keep_media

_PLACE_KEYS = ("latitude", "longitude", "region", "cercle", "locality", "precision")


def _forget_place(turn: Turn) -> None:
    for key in _PLACE_KEYS:
        turn.answers.pop(key, None)


class Where(Step):
    """Share a pin (the most precise), or pick from the lists, or type a region's name."""

    name = "where"

    def _list_label(self, turn: Turn) -> str:
        return turn.t._("🗺️ Choisir dans une liste")

    async def ask(self, turn: Turn) -> Message:
        return Request(
            turn.t._(
                "📍 Où est-ce arrivé ? Partagez la position avec le bouton ci-dessous, "
                "ou choisissez la région dans une liste."
            ),
            KeyboardRequest.LOCATION,
            turn.t._("📍 Partager la position"),
            alternatives=(self._list_label(turn),),
        )

    async def answer(self, turn: Turn, event: InboundEvent) -> Transition:
        t = turn.t
        if isinstance(event, LocationEvent):
            _forget_place(turn)
            turn.answers.update(
                latitude=round(event.latitude, 5),
                longitude=round(event.longitude, 5),
                precision=places.Precision.EXACT_PIN.value,
            )
            if event.title:
                turn.answers["place_detail"] = event.title[:200]
            turn.out.append(RemoveKeyboard(t._("📍 Position reçue.")))
            if not places.in_mali(event.latitude, event.longitude):
                keep_editing(turn, "pin_outside")
                return next_step(turn, "pin_outside")
            return next_step(turn, "place_detail")
        if isinstance(event, TextEvent):
            typed = normalize(event.text)
            if typed in {normalize(self._list_label(turn)), "liste", "list"}:
                turn.out.append(RemoveKeyboard(t._("D'accord, choisissons dans la liste.")))
                keep_editing(turn, "region", "cercle", "locality")
                return Goto("region")
            region = places.find_region(event.text)
            if region is not None:
                _forget_place(turn)
                turn.answers.update(region=region.code, precision=places.Precision.REGION.value)
                turn.out.append(RemoveKeyboard(t._("Région : {name}.", name=region.name)))
                keep_editing(turn, "cercle", "locality")
                return Goto("cercle")
        return Retry(
            t._(
                "Touchez « 📍 Partager la position », ou « {list} », ou écrivez le nom de la "
                "région.",
                list=self._list_label(turn),
            )
        )


class PinOutside(ChoiceStep):
    name = "pin_outside"

    async def question(self, turn: Turn) -> str:
        return turn.t._(
            "⚠️ Cette position semble être hors du Mali. Est-ce bien l'endroit de l'incident ?"
        )

    async def options(self, turn: Turn) -> Sequence[Option]:
        return (
            Option("keep", turn.t._("Oui, garder"), ("oui", "yes", "awo")),
            Option("again", turn.t._("Non, recommencer"), ("non", "no", "ayi")),
        )

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key == "again":
            _forget_place(turn)
            keep_editing(turn, "where")
            return Goto("where")
        return next_step(turn, "place_detail")


class RegionChoice(ChoiceStep):
    name = "region"
    columns = 2

    async def question(self, turn: Turn) -> str:
        return turn.t._("Dans quelle région ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [
            Option(r.code, r.name, places.REGION_ALIASES.get(r.code, ())) for r in places.REGIONS
        ]

    async def answer(self, turn: Turn, event: InboundEvent) -> Transition:
        if isinstance(event, TextEvent) and not event.text.strip().isdigit():
            region = places.find_region(event.text)
            if region is not None:
                return await self.chosen(turn, region.code)
        return await super().answer(turn, event)

    async def chosen(self, turn: Turn, key: str) -> Transition:
        _forget_place(turn)
        turn.answers.update(region=key, precision=places.Precision.REGION.value)
        keep_editing(turn, "cercle", "locality")
        return Goto("cercle")


OTHER = "_other"


class CercleChoice(ChoiceStep):
    """The cercles of the chosen region, or Bamako's communes; "other" types a locality."""

    name = "cercle"
    columns = 2

    def _region(self, turn: Turn) -> places.Region:
        region = places.region(str(turn.answers.get("region", "")))
        return region or places.BAMAKO

    async def enter(self, turn: Turn) -> Goto | None:
        return None if turn.answers.get("region") else Goto("region")

    async def question(self, turn: Turn) -> str:
        region = self._region(turn)
        if region.is_district:
            return turn.t._("Dans quelle commune de Bamako ?")
        return turn.t._(
            "Dans quel cercle de la région de {region} ? Si vous ne savez pas, choisissez "
            "« Autre » et écrivez le nom du lieu.",
            region=region.name,
        )

    async def options(self, turn: Turn) -> Sequence[Option]:
        region = self._region(turn)
        choices = [Option(c.code, c.name) for c in region.cercles]
        if not region.is_district:
            choices.append(Option(OTHER, turn.t._("✏️ Autre lieu"), ("autre", "other")))
        return choices

    async def answer(self, turn: Turn, event: InboundEvent) -> Transition:
        if isinstance(event, TextEvent) and not event.text.strip().isdigit():
            found = places.find_cercle(self._region(turn), event.text)
            if found is not None:
                return await self.chosen(turn, found.code)
        return await super().answer(turn, event)

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key == OTHER:
            keep_editing(turn, "locality")
            return Goto("locality")
        turn.answers.update(cercle=key, precision=places.Precision.CERCLE_OR_COMMUNE.value)
        turn.answers.pop("locality", None)
        return next_step(turn, "place_detail")


async def _voice_for_place(turn: Turn, event: MediaEvent, answer: str) -> Transition | None:
    """A place said in a voice note: kept with the report's files, for the analysts."""
    if event.media not in (MediaKind.VOICE, MediaKind.AUDIO):
        return Retry(turn.t._("Pour cette question, écrivez votre réponse."))
    problem = await keep_media(turn, event, "evidence")
    if problem:
        return Retry(problem)
    turn.answers[answer] = turn.t._("🎤 (message vocal)")
    return None


class Locality(TextStep):
    name = "locality"

    async def media(self, turn: Turn, event: MediaEvent) -> Transition:
        refused = await _voice_for_place(turn, event, "locality")
        if refused:
            return refused
        turn.answers["precision"] = places.Precision.REGION.value
        turn.answers.pop("cercle", None)
        return next_step(turn, "place_detail")

    async def question(self, turn: Turn) -> str:
        return turn.t._("Écrivez le nom de la ville ou du village.")

    async def typed(self, turn: Turn, text: str) -> Transition:
        turn.answers.update(locality=text[:120], precision=places.Precision.LOCALITY.value)
        turn.answers.pop("cercle", None)
        return next_step(turn, "place_detail")


class PlaceDetail(TextStep):
    name = "place_detail"
    optional = True

    async def media(self, turn: Turn, event: MediaEvent) -> Transition:
        return await _voice_for_place(turn, event, "place_detail") or next_step(turn, "what")

    async def question(self, turn: Turn) -> str:
        return turn.t._(
            "Pouvez-vous préciser le lieu : village, quartier, route, repère ? "
            "(facultatif : touchez « Passer »)"
        )

    async def typed(self, turn: Turn, text: str) -> Transition:
        turn.answers["place_detail"] = text[:200]
        return next_step(turn, "what")

    async def skipped(self, turn: Turn) -> Transition:
        return next_step(turn, "what")

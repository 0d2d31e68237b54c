"""Random sequences of every kind of event, at every step, in every language: the engine never
fails, always answers a private chat, and always leaves a valid state behind."""

from __future__ import annotations

import asyncio
import os
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import Kibaru
from bot.clock import ManualClock
from bot.i18n import SHIPPED_LANGUAGES
from bot.inbound import (
    ActionEvent,
    ChoiceEvent,
    CommandEvent,
    ContactEvent,
    EditedEvent,
    LocationEvent,
    MalformedChoiceEvent,
    MediaEvent,
    MediaKind,
    Sender,
    TextEvent,
    UnsupportedEvent,
)
from bot.outbound import Question
from bot.settings import Settings
from storage import conversations, users

COMMAND_NAMES = [
    "start",
    "aide",
    "help",
    "annuler",
    "cancel",
    "retour",
    "back",
    "langue",
    "language",
    "effacer",
    "forget",
    "menu",
    "signaler",
    "signaler",
    "signaler",
    "report",
    "mes_signalements",
    "alertes",
    "stop",
    "sessions",
    "inconnue",
]
TEXTS = st.one_of(
    st.sampled_from(
        ["1", "2", "3", "6", "9", "0", "oui", "non", "annuler", "retour", "awo", "STOP"]
    ),
    st.sampled_from(["Français", "bambara", "English", "⬅️ Segin kɔ", "segin ko", "aide"]),
    st.sampled_from(["Bamako", "Gao", "commune 4", "12/03", "hier", "14h30", "le soir"]),
    st.sampled_from(["des hommes armés au marché", "passer", "terminé", "-3", "5000", "@1,2"]),
    st.text(max_size=30),
    st.just("x" * 4500),
)

ACTIONS = st.one_of(
    st.tuples(st.just("text"), TEXTS),
    st.tuples(st.just("command"), st.sampled_from(COMMAND_NAMES)),
    st.tuples(st.just("tap"), st.integers(0, 8)),  # a button of the current question
    st.tuples(st.just("old_tap"), st.integers(0, 8)),  # a button of an earlier question
    st.tuples(st.just("crafted"), st.text(max_size=10)),
    st.tuples(st.just("unsupported"), st.sampled_from(["sticker", "animation", "poll", "other"])),
    st.tuples(st.just("edited"), st.none()),
    st.tuples(st.just("malformed"), st.none()),
    st.tuples(st.just("location"), st.none()),
    st.tuples(st.just("contact"), st.none()),
    st.tuples(st.just("media"), st.sampled_from(list(MediaKind))),
    st.tuples(st.just("restart"), st.none()),
    # buttons of review messages, relayed questions, announcements: crafted or stale data
    st.tuples(
        st.just("action"),
        st.tuples(
            st.sampled_from(["rv", "rq", "ann", "zz", ""]),
            st.lists(st.sampled_from(["1", "2", "val", "rej", "ask", "dup", "show", "x", ""])),
        ),
    ),
)


async def _play(actions: list[tuple[str, object]], hint: str, tmp_db: str) -> None:
    settings = Settings(
        telegram_token=None, database_path=tmp_db, timezone=ZoneInfo("Africa/Bamako")
    )  # type: ignore[arg-type]
    clock = ManualClock()
    kibaru = await Kibaru.open(settings, clock)
    sender = Sender("fuzz", "7", language_hint=hint)
    questions: list[Question] = []
    update_id = 0
    try:
        for kind, value in actions:
            update_id += 1
            clock.advance(seconds=7)
            event: object
            if kind == "restart":
                await kibaru.close()
                kibaru = await Kibaru.open(settings, clock)
                continue
            if kind == "text":
                event = TextEvent(sender, text=str(value), event_id=update_id)
            elif kind == "command":
                event = CommandEvent(sender, name=str(value), event_id=update_id)
            elif kind in ("tap", "old_tap") and questions:
                question = questions[-1] if kind == "tap" else questions[0]
                buttons = (*question.choices, *question.navigation)
                button = buttons[int(value) % len(buttons)]  # type: ignore[call-overload]
                event = ChoiceEvent(
                    sender, prompt=question.prompt, key=button.key, event_id=update_id
                )
            elif kind in ("tap", "old_tap", "crafted"):
                event = ChoiceEvent(sender, prompt=99, key=str(value) or "k", event_id=update_id)
            elif kind == "unsupported":
                event = UnsupportedEvent(sender, what=str(value), event_id=update_id)
            elif kind == "edited":
                event = EditedEvent(sender, event_id=update_id)
            elif kind == "malformed":
                event = MalformedChoiceEvent(sender, event_id=update_id)
            elif kind == "location":
                event = LocationEvent(sender, latitude=14.5, longitude=-4.2, event_id=update_id)
            elif kind == "action":
                name, args = value  # type: ignore[misc]
                event = ActionEvent(sender, name=name, args=tuple(args), event_id=update_id)
            elif kind == "contact":
                event = ContactEvent(sender, phone="+22370000001", own=True, event_id=update_id)
            else:
                event = MediaEvent(
                    sender,
                    media=value,  # type: ignore[arg-type]
                    file_id="f",
                    size=10,
                    event_id=update_id,
                )
            replies = await kibaru.conversations.handle(event)  # type: ignore[arg-type]
            assert replies, f"no answer to {kind}"
            assert all(r.text.strip() for r in replies)
            questions += [r for r in replies if isinstance(r, Question)]
            await _check_state(kibaru)
        assert await kibaru.db.integrity_ok()
    finally:
        await kibaru.close()


async def _check_state(kibaru: Kibaru) -> None:
    features = kibaru.conversations.features
    async with kibaru.db.reading() as conn:
        user = await users.find(conn, "fuzz", "7")
        if user is None:  # just forgotten
            return
        assert user.language in (None, *SHIPPED_LANGUAGES)
        state = await conversations.load(conn, user.id)
    assert state is not None
    assert state.frames[0].flow == features.menu_flow
    for frame in state.frames:
        flow = features.flows[frame.flow]
        assert frame.step in flow.steps
        assert all(step in flow.steps for step in frame.history)


@settings(
    max_examples=int(os.environ.get("KIBARU_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    actions=st.lists(ACTIONS, min_size=1, max_size=25),
    hint=st.sampled_from(["fr", "bm", "en", "de", ""]),
)
def test_random_event_sequences(tmp_path_factory: object, actions: list, hint: str) -> None:
    folder = tmp_path_factory.mktemp("fuzz")  # type: ignore[attr-defined]
    asyncio.run(_play(actions, hint, str(folder / "fuzz.db")))

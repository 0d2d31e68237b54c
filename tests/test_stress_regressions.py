"""What the stress suites (`test_engine_fuzz.py`, `test_privileges.py`) found, one test each,
on the world of `tests/world.py`, so that each stays fixed even where the suites' random
sequences would no longer pass by."""

from __future__ import annotations

from pathlib import Path

from bot.app import Kibaru
from bot.inbound import ActionEvent, ChoiceEvent, CommandEvent, TextEvent
from bot.outbound import Question
from storage import audit, roles, users
from storage.roles import Role
from tests.invariants import check_state
from tests.world import CHANNEL, World, opened, sender

REFUSED = "⛔"


async def _say(kibaru: Kibaru, holder: str, event_name: str, args: str = "") -> str:
    replies = await kibaru.conversations.handle(
        CommandEvent(sender(holder), name=event_name, args=args)
    )
    return "\n".join(m.text for m in replies)


async def _press(kibaru: Kibaru, holder: str, name: str, *args: object) -> str:
    event = ActionEvent(sender(holder), name=name, args=tuple(str(a) for a in args))
    return "\n".join(m.text for m in await kibaru.conversations.handle(event))


async def _last_refusal(kibaru: Kibaru) -> audit.AuditEntry:
    async with kibaru.db.reading() as conn:
        entries = [e for e in await audit.recent(conn) if e.action == "refused"]
    return entries[0]


async def test_a_review_button_for_a_report_that_never_existed_is_refused_to_a_stranger(
    world: World, tmp_path: Path
) -> None:
    """Before: "this report no longer exists", which told anyone which report numbers were
    real; now only reviewers learn that, the others are refused and audited."""
    async with opened(world, tmp_path) as kibaru:
        assert REFUSED in await _press(kibaru, "stranger", "rv", 999999, "val")
        entry = await _last_refusal(kibaru)
        assert (entry.actor_id, entry.subject) == (world.ids["stranger_user"], "report:999999")
        said = await _press(kibaru, "validator_elsewhere", "rv", 999999, "val")
        assert REFUSED not in said  # a validator may be told the report is gone


async def test_a_membership_button_for_a_request_that_never_existed_is_refused_to_a_stranger(
    world: World, tmp_path: Path
) -> None:
    async with opened(world, tmp_path) as kibaru:
        assert REFUSED in await _press(kibaru, "member", "cm", 999999, "ok")
        entry = await _last_refusal(kibaru)
        assert (entry.actor_id, entry.subject) == (world.ids["member_user"], "member:999999")
        assert "n'existe plus" in await _press(kibaru, "secretary", "cm", 999999, "ok")


async def test_participation_with_junk_arguments_is_refused_before_they_are_read(
    world: World, tmp_path: Path
) -> None:
    """Before: a stranger's "/participation xyz" was told the period was not understood
    (with the usage of a staff command) instead of being refused."""
    async with opened(world, tmp_path) as kibaru:
        assert REFUSED in await _say(kibaru, "stranger", "participation", "xyz")
        assert (await _last_refusal(kibaru)).actor_id == world.ids["stranger_user"]
        assert "période" in await _say(kibaru, "secretary", "participation", "xyz")


async def test_a_coordinator_appoints_a_secretary_with_the_committee_code(
    world: World, tmp_path: Path
) -> None:
    """As README and /comite_nouveau say: `/role ID ccsc_secretary ccsc_bamako_c4`. Before,
    the committee code was refused as an unknown place, and a place code (bamako_c4) was
    accepted though it gives no committee to manage."""
    async with opened(world, tmp_path) as kibaru:
        said = await _say(kibaru, "coordinator", "role", "700 ccsc_secretary ccsc_bamako_c4")
        assert "donné à 700" in said
        assert REFUSED not in await _say(kibaru, "stranger", "membres")  # now a secretary
        said = await _say(kibaru, "coordinator", "role", "501 ccsc_secretary bamako_c4")
        assert "Je ne connais pas le comité « bamako_c4 »" in said
        assert "ccsc_bamako_c4" in said  # the codes to choose from
        said = await _say(kibaru, "coordinator", "role", "501 validator ccsc_bamako_c4")
        assert "Je ne connais pas la zone" in said
        async with kibaru.db.reading() as conn:
            applicant = await users.find(conn, CHANNEL, "501")
            assert applicant is not None
            assert await roles.of_user(conn, applicant.id) == []
            stranger = await users.find(conn, CHANNEL, "700")
            assert stranger is not None
            assert await roles.has_role(conn, stranger.id, Role.CCSC_SECRETARY, "ccsc_bamako_c4")


async def test_moving_a_full_session_gives_no_reminders_to_those_waiting(
    world: World, tmp_path: Path
) -> None:
    """The reminder invariant (queued reminders only for yes or maybe with a place) fails
    here: moving a session rescheduled reminders for everyone who said yes, the waiting list
    included (promised: no reminders until a place frees)."""
    async with opened(world, tmp_path) as kibaru:
        session = world.ids["s3"]  # one place
        assert "✅" in await _press(kibaru, "stranger", "rsvp", session, "yes")
        assert "liste d'attente" in await _press(kibaru, "subscriber", "rsvp", session, "yes")
        await _press(kibaru, "secretary", "smv", session)
        conversations = kibaru.conversations
        for typed in ("2/12", "16h"):
            replies = await conversations.handle(TextEvent(sender("secretary"), text=typed))
        question = replies[-1]
        assert isinstance(question, Question)
        await conversations.handle(ChoiceEvent(sender("secretary"), question.prompt, "move"))
        async with kibaru.db.reading() as conn:
            cursor = await conn.execute(
                "SELECT chat_id, COUNT(*) FROM outbox WHERE kind = 'reminder'"
                " AND status = 'queued' AND key LIKE ? GROUP BY chat_id",
                (f"reminder:{session}:%",),
            )
            queued = {str(r[0]): int(r[1]) for r in await cursor.fetchall()}
        assert queued == {"700": 2}  # the 24 h and 2 h reminders of the one with a place
        check_state(kibaru)


async def _invited(kibaru: Kibaru, user_id: int) -> set[int]:
    async with kibaru.db.reading() as conn:
        cursor = await conn.execute(
            "SELECT session_id FROM invitations WHERE user_id = ?", (user_id,)
        )
        return {int(r[0]) for r in await cursor.fetchall()}


async def _queued(kibaru: Kibaru, like: str) -> int:
    async with kibaru.db.reading() as conn:
        cursor = await conn.execute(
            "SELECT COUNT(*) FROM outbox WHERE status = 'queued' AND key LIKE ?", (like,)
        )
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def test_a_removed_member_is_no_longer_invited_to_the_committee_s_own_sessions(
    world: World, tmp_path: Path
) -> None:
    """Found by the fuzzer (a secretary's "remove" button, then the invitation invariant): a
    removed member kept the invitations and reminders of the committee's meetings still to
    come, with their place and agenda. Open sessions and one already under way stay."""
    member = world.ids["member_user"]
    async with opened(world, tmp_path) as kibaru:
        before = await _invited(kibaru, member)
        assert await _queued(kibaru, f"reminder:{world.ids['s1']}:{member}:%") == 2
        assert "retiré" in await _press(kibaru, "secretary", "cmr", world.ids["member_row"])
        after = await _invited(kibaru, member)
        assert world.ids["s1"] in before and world.ids["s1"] not in after
        assert len(before - after) == 3  # S1 and the two next monthly meetings
        assert {world.ids["s2"], world.ids["s3"]} <= after  # under way; open to the public
        assert await _queued(kibaru, f"reminder:{world.ids['s1']}:{member}:%") == 0
        check_state(kibaru)


async def test_a_member_who_leaves_is_no_longer_invited_either(
    world: World, tmp_path: Path
) -> None:
    member = world.ids["member_user"]
    async with opened(world, tmp_path) as kibaru:
        conversations = kibaru.conversations
        await conversations.handle(CommandEvent(sender("member"), name="ccsc"))
        replies = await conversations.handle(TextEvent(sender("member"), text="1"))
        question = replies[-1]
        assert isinstance(question, Question)
        await conversations.handle(ChoiceEvent(sender("member"), question.prompt, "yes"))
        assert world.ids["s1"] not in await _invited(kibaru, member)
        assert world.ids["s3"] in await _invited(kibaru, member)
        check_state(kibaru)


async def test_deleting_one_s_data_gives_one_s_place_to_the_first_waiting(
    world: World, tmp_path: Path
) -> None:
    """The waiting-list invariant (no one waits while a place is free) fails here, met while
    fixing the removed member: /effacer deleted the invitation of someone who held a place,
    and the person waiting for it never got it."""
    session = world.ids["s3"]
    async with opened(world, tmp_path) as kibaru:
        await _press(kibaru, "stranger", "rsvp", session, "yes")
        await _press(kibaru, "subscriber", "rsvp", session, "yes")
        conversations = kibaru.conversations
        await conversations.handle(CommandEvent(sender("stranger"), name="effacer"))
        replies = await conversations.handle(TextEvent(sender("stranger"), text="1"))
        assert "effacées" in replies[-1].text or "deleted" in replies[-1].text
        subscriber = world.ids["subscriber_user"]
        async with kibaru.db.reading() as conn:
            cursor = await conn.execute(
                "SELECT answer, waitlisted FROM invitations WHERE session_id = ? AND user_id = ?",
                (session, subscriber),
            )
            assert tuple(await cursor.fetchone() or ()) == ("yes", 0)
        assert await _queued(kibaru, f"session-place:{session}:{subscriber}:%") == 1
        assert await _queued(kibaru, f"reminder:{session}:{subscriber}:%") == 2
        check_state(kibaru)


async def test_stop_also_stops_the_alerts_already_queued(world: World, tmp_path: Path) -> None:
    """Found by the fuzzer (STOP as its first step, then the pause invariant): the alert of
    ML-2026-000003, queued for the subscriber and not sent yet (a broadcast takes minutes,
    a digest waits for its hour), still went out after STOP."""
    async with opened(world, tmp_path) as kibaru:
        subscriber = world.ids["subscriber_user"]
        assert await _queued(kibaru, f"alert:%:{subscriber}") == 1
        await kibaru.conversations.handle(TextEvent(sender("subscriber"), text="STOP"))
        assert await _queued(kibaru, f"alert:%:{subscriber}") == 0
        check_state(kibaru)


async def test_a_focal_point_who_said_stop_gets_no_new_alert(world: World, tmp_path: Path) -> None:
    """Met while fixing the previous one: staff of the area (focal points, validators,
    coordinators) were added to every alert without looking at their pause."""
    async with opened(world, tmp_path) as kibaru:
        conversations = kibaru.conversations
        await conversations.handle(CommandEvent(sender("focal_point"), name="stop"))
        validator = sender("validator")
        await _press(kibaru, "validator", "rv", world.ids["r2"], "val")
        await conversations.handle(TextEvent(validator, text="3"))
        replies = await conversations.handle(TextEvent(validator, text="1"))
        question = replies[-1]
        assert isinstance(question, Question)
        await conversations.handle(ChoiceEvent(validator, question.prompt, question.choices[0].key))
        async with kibaru.db.reading() as conn:
            cursor = await conn.execute(
                "SELECT chat_id FROM outbox WHERE kind = 'alert' AND key LIKE 'alert:2:%'"
            )
            reached = {str(r[0]) for r in await cursor.fetchall()}
        assert "800" in reached and "300" not in reached  # the subscriber, not the focal point
        check_state(kibaru)


async def test_a_withdrawn_validator_is_sent_no_more_reports(world: World, tmp_path: Path) -> None:
    """Found by the fuzzer (a coordinator's `/role 200 validator retirer`, then the review
    post invariant): the reports queued for review to a validator were still sent to them
    after their role was withdrawn, and a decision only cancelled the posts of those who
    were reviewers at that moment."""
    async with opened(world, tmp_path) as kibaru:
        assert await _queued(kibaru, "review:%:200") == 2  # R1 and R2, still to send
        said = await _say(kibaru, "coordinator", "role", "200 validator retirer")
        assert "retiré" in said
        assert await _queued(kibaru, "review:%:200") == 0
        assert await _queued(kibaru, "review:%:100") == 2  # the coordinator's stay
        check_state(kibaru)


async def test_a_validator_who_deletes_their_data_leaves_no_name_on_decisions(
    world: World, tmp_path: Path
) -> None:
    """Found by the fuzzer (/effacer by the validator who validated ML-2026-000003): the
    decision kept the display name it was taken under, after the person was deleted."""
    async with opened(world, tmp_path) as kibaru:
        conversations = kibaru.conversations
        await conversations.handle(CommandEvent(sender("validator"), name="effacer"))
        await conversations.handle(TextEvent(sender("validator"), text="1"))
        async with kibaru.db.reading() as conn:
            cursor = await conn.execute(
                "SELECT decided_by, decided_by_name FROM review_decisions WHERE report_id = ?",
                (world.ids["r3"],),
            )
            assert tuple(await cursor.fetchone() or ()) == (None, None)
        check_state(kibaru)

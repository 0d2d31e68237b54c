"""What the stress suites (`test_engine_fuzz.py`, `test_privileges.py`) found, one test each,
on the world of `tests/world.py`, so that each stays fixed even where the suites' random
sequences would no longer pass by."""

from __future__ import annotations

from pathlib import Path

from bot.app import Kibaru
from bot.inbound import ActionEvent, CommandEvent
from storage import audit, roles, users
from storage.roles import Role
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

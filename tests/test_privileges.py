"""Privileges under stress: every command and button reserved to a role, sent by everyone
else (other roles, people with no role), with data pointing at real objects and with crafted
data: all refused with a message, each refusal in the audit log, and no data changed.

The table `RESERVED` is the list of what is reserved to whom: one line per command or
button. A command or an action registered in the bot but neither in the table nor declared
open to all (`OPEN_TO_ALL_COMMANDS`, `OPEN_TO_ALL_ACTIONS`) fails
`test_the_table_covers_every_command_and_button`: a new reserved feature cannot be
forgotten here.

The people and objects are those of `tests/world.py` (arguments such as `{r2}` are its ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import Kibaru
from bot.i18n import Catalogs
from bot.inbound import ActionEvent, CommandEvent
from bot.outbound import Message
from handlers import build_features
from tests.world import PEOPLE, World, opened, sender, world_settings

# Who may do what (holders of tests/world.py). A validator for Mopti may open the review
# queue but not decide on a report from Bamako; a secretary of Commune I may create sessions,
# for Commune I only.
COORDINATOR = ("coordinator",)
REVIEWERS = ("coordinator", "validator")
MANAGERS = ("coordinator", "secretary")


@dataclass(frozen=True)
class Reserved:
    """A command (`/name args`) or an action button (`!name:args`) and who may use it."""

    text: str
    allowed: frozenset[str]

    @property
    def is_command(self) -> bool:
        return self.text.startswith("/")

    @property
    def name(self) -> str:
        return self.text[1:].split(" ")[0].split(":")[0]

    def event(self, world: World, holder: str) -> CommandEvent | ActionEvent:
        filled = self.text[1:].format(**world.ids, **world.references)
        if self.is_command:
            name, _, args = filled.partition(" ")
            return CommandEvent(sender(holder), name=name, args=args)
        name, *args = filled.split(":")
        return ActionEvent(sender(holder), name=name, args=tuple(args), actor_name="Mallory")


def reserved(text: str, *allowed: str) -> Reserved:
    return Reserved(text, frozenset(allowed))


RESERVED: tuple[Reserved, ...] = (
    # team commands
    reserved("/a_valider", *REVIEWERS, "validator_elsewhere"),
    reserved("/role 700 validator", *COORDINATOR),
    reserved("/role 700 validator retirer", *COORDINATOR),
    reserved("/roles", *COORDINATOR),
    reserved("/annonce", *COORDINATOR),
    reserved("/annonces", *COORDINATOR),
    reserved("/diffusion {r3_ref}", *COORDINATOR),
    reserved("/membres ccsc_bamako_c4", *MANAGERS),
    reserved("/membres", *MANAGERS, "secretary_elsewhere"),
    reserved("/participation ccsc_bamako_c4 mois", *MANAGERS),
    reserved("/participation", *MANAGERS, "secretary_elsewhere"),
    reserved("/comite_nouveau CCS-C Kati kati", *COORDINATOR),
    reserved("/session_nouvelle", *MANAGERS, "secretary_elsewhere"),
    reserved("/bulletin semaine", *COORDINATOR),
    reserved("/bulletin mois 2026-11", *COORDINATOR),
    reserved("/stats", *COORDINATOR),
    reserved("/export mois csv", *COORDINATOR),
    reserved("/export participation mois xlsx", *COORDINATOR),
    reserved("/export cap", *COORDINATOR),
    # review buttons, asking for details, and the reporter's answer
    reserved("!rv:{r2}:val", *REVIEWERS),
    reserved("!rv:{r2}:rej", *REVIEWERS),
    reserved("!rv:{r2}:ask", *REVIEWERS),
    reserved("!rv:{r2}:dup", *REVIEWERS),
    reserved("!rv:{r2}:show", *REVIEWERS),
    reserved("!rv:{r3}:show", *REVIEWERS),
    reserved("!rq:{question}", "reporter"),
    # announcements
    reserved("!ann:{announcement}", *COORDINATOR),
    # CCS-C membership
    reserved("!cm:{pending_row}:ok", *MANAGERS),
    reserved("!cm:{pending_row}:no", *MANAGERS),
    reserved("!cmr:{member_row}", *MANAGERS),
    # sessions: answering an invitation to a committee's own session, managing, roll call
    reserved("!rsvp:{s1}:no", "member"),
    reserved("!smv:{s1}", *MANAGERS),
    reserved("!scx:{s1}", *MANAGERS),
    reserved("!scx:{s1}:ok", *MANAGERS),
    reserved("!srs:{rule}", *MANAGERS),
    reserved("!srs:{rule}:ok", *MANAGERS),
    reserved("!roll:{s2}", *MANAGERS),
    reserved("!mk:{s2}:{member_user}:1", *MANAGERS),
    reserved("!mk:{s2}:{member_user}:0", *MANAGERS),
    reserved("!mk:{s2}:rest", *MANAGERS),
)

#: command actions anyone may use (the unlisted ones are not in the public menu)
OPEN_TO_ALL_COMMANDS = {"start", "pause", "whoami"}
#: action buttons anyone may press: none (registering for an open session goes through
#: `rsvp`, which is reserved for a committee's own sessions)
OPEN_TO_ALL_ACTIONS: set[str] = set()

#: crafted data a stranger may send for any button: gone objects, malformed, overlong
CRAFTED_ARGS: tuple[tuple[str, ...], ...] = (
    (),
    ("",),
    ("999999",),
    ("999999", "ok"),
    ("999999", "val"),
    ("999999", "1", "1"),
    ("{r2}", "nope"),
    ("{s1}", "{member_user}", "7"),
    ("-1",),
    ("9" * 40,),
    ("x", "y", "z", "w", "v"),
    ("☠️",),
)
#: crafted arguments to the reserved commands
CRAFTED_COMMAND_ARGS = ("", "☠️ " * 30, "999999 coordinator", "ML-2026-999999", "semaine", "2026-11")

#: tables a refusal may write to: the audit log and the refuser's conversation state (a
#: refusal is a direct reply, never an outbox row: the outbox is compared whole)
NOT_DATA = {"audit_log", "conversations", "sqlite_sequence"}


async def _snapshot(kibaru: Kibaru) -> dict[str, list[tuple[object, ...]]]:
    """Every data table's rows (sorted): what a refusal must leave as it was."""
    found: dict[str, list[tuple[object, ...]]] = {}
    async with kibaru.db.reading() as conn:
        cursor = await conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = [str(row[0]) for row in await cursor.fetchall()]
        for table in tables:
            if table in NOT_DATA:
                continue
            cursor = await conn.execute(f'SELECT * FROM "{table}"')  # names from the schema
            found[table] = sorted((tuple(r) for r in await cursor.fetchall()), key=repr)
    return found


async def _refusals(kibaru: Kibaru, user_id: int) -> int:
    async with kibaru.db.reading() as conn:
        cursor = await conn.execute(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'refused' AND actor_id = ?", (user_id,)
        )
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


def _said(replies: list[Message]) -> str:
    return "\n".join(m.text for m in replies)


class Attempts:
    """Forbidden events sent one after the other to one database: as none may change any
    data, each compares the tables with how the previous one left them."""

    def __init__(self, kibaru: Kibaru, world: World) -> None:
        self.kibaru = kibaru
        self.world = world
        self.tables: dict[str, list[tuple[object, ...]]] | None = None
        self.count = 0
        self.problems: list[str] = []

    async def send(self, holder: str, event: CommandEvent | ActionEvent, what: str) -> None:
        """Send one forbidden event; note what went wrong, if it was not refused properly."""
        kibaru = self.kibaru
        user_id = self.world.ids[f"{holder}_user"]
        before = self.tables or await _snapshot(kibaru)
        audited = await _refusals(kibaru, user_id)
        replies = await kibaru.conversations.handle(event)
        self.count += 1
        problems = []
        if "⛔" not in _said(replies):
            problems.append("no refusal message: " + _said(replies)[:120].replace("\n", " "))
        if await _refusals(kibaru, user_id) != audited + 1:
            problems.append("not audited once")
        self.tables = await _snapshot(kibaru)
        changed = sorted(table for table in before if before[table] != self.tables.get(table))
        if changed:
            problems.append(f"changed {', '.join(changed)}")
        if problems:
            self.problems.append(f"{what} by {holder}: {'; '.join(problems)}")


def _say(capsys: pytest.CaptureFixture[str], *lines: str) -> None:
    with capsys.disabled():
        for line in lines:
            print(f"\n[privileges] {line}", end="")
        print()


async def test_every_reserved_command_and_button_is_refused_to_everyone_else(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with opened(world, tmp_path) as kibaru:
        attempts = Attempts(kibaru, world)
        for row in RESERVED:
            for holder in PEOPLE:
                if holder not in row.allowed:
                    await attempts.send(holder, row.event(world, holder), row.text)
        assert await kibaru.db.integrity_ok()
    _say(
        capsys,
        f"tried {len(RESERVED)} reserved commands and buttons, each sent by every holder "
        f"without the right ({len(PEOPLE)} holders, {attempts.count} attempts)",
        f"found {attempts.count - len(attempts.problems)} refused with a message, audited once "
        f"and no data changed; {len(attempts.problems)} not",
    )
    assert not attempts.problems, "\n".join(attempts.problems)


async def test_crafted_data_from_a_stranger_is_refused(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Buttons the bot never made (gone objects, wrong arity, junk) and reserved commands
    with junk arguments, from someone with no role: refused and audited, nothing changed."""
    features = build_features(Catalogs(world_settings(tmp_path, tmp_path).timezone))
    stranger = sender("stranger")
    commands = sorted({row.name for row in RESERVED if row.is_command})
    async with opened(world, tmp_path) as kibaru:
        attempts = Attempts(kibaru, world)
        for name in sorted(features.actions):
            for crafted in CRAFTED_ARGS:
                args = tuple(a.format(**world.ids) for a in crafted)
                event = ActionEvent(stranger, name=name, args=args, actor_name="Mallory")
                await attempts.send("stranger", event, "!" + ":".join((name, *args))[:40])
        for command in commands:
            for text in CRAFTED_COMMAND_ARGS:
                event = CommandEvent(stranger, name=command, args=text)
                await attempts.send("stranger", event, f"/{command} {text[:20]}")
    _say(
        capsys,
        f"tried {attempts.count} crafted buttons and commands from a stranger "
        f"({len(features.actions)} actions × {len(CRAFTED_ARGS)} data, "
        f"{len(commands)} commands × {len(CRAFTED_COMMAND_ARGS)} arguments)",
        f"found {attempts.count - len(attempts.problems)} refused and audited with nothing "
        f"changed; {len(attempts.problems)} not",
    )
    assert not attempts.problems, "\n".join(attempts.problems)


async def test_those_allowed_are_not_refused(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The other side of the table, so that it cannot pass by refusing everything: each
    allowed holder, on a fresh copy of the world, is not refused."""
    problems: list[str] = []
    attempts = 0
    for number, row in enumerate(RESERVED):
        async with opened(world, tmp_path / str(number)) as kibaru:
            for holder in sorted(row.allowed):
                attempts += 1
                user_id = world.ids[f"{holder}_user"]
                audited = await _refusals(kibaru, user_id)
                replies = await kibaru.conversations.handle(row.event(world, holder))
                if "⛔" in _said(replies) or await _refusals(kibaru, user_id) != audited:
                    problems.append(f"{row.text} refused to {holder}")
    _say(
        capsys,
        f"tried {attempts} commands and buttons by holders allowed to use them",
        f"found {attempts - len(problems)} accepted; {len(problems)} refused",
    )
    assert not problems, "\n".join(problems)


def test_the_table_covers_every_command_and_button(tmp_path: Path) -> None:
    features = build_features(Catalogs(world_settings(tmp_path, tmp_path).timezone))
    in_table = {features.command_action(r.name) for r in RESERVED if r.is_command}
    unlisted = {spec.action for spec in features.commands if not spec.listed}
    assert unlisted - OPEN_TO_ALL_COMMANDS <= in_table, "a team command is not in RESERVED"
    assert set(features.actions) - OPEN_TO_ALL_ACTIONS <= {
        r.name for r in RESERVED if not r.is_command
    }, "an action button is not in RESERVED"
    holders = {h for row in RESERVED for h in row.allowed}
    assert holders <= set(PEOPLE)

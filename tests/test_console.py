"""The console channel: a scripted run through a pipe, as a trainer or a CI job would."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from bot.app import Kibaru
from bot.channels.console import ConsoleChannel, parse_line, render
from bot.inbound import CommandEvent, LocationEvent, Sender, TextEvent
from bot.outbound import Button, KeyboardRequest, Question, Request

ROOT = Path(__file__).resolve().parent.parent


def _console(script: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIBARU_", "TELEGRAM_"))}
    env.update({"KIBARU_DB": str(db), "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"})
    return subprocess.run(
        [sys.executable, str(ROOT / "run_bot.py"), "--console"],
        input=script,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_scripted_onboarding_in_bambara(tmp_path: Path) -> None:
    db = tmp_path / "console.db"
    result = _console("2\n/aide\n/langue\n1\n", db)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    # the welcome question, numbered, then the typed answers echoed
    assert "  1. Français\n  2. Bamanankan\n  3. English" in out
    assert "> 2" in out
    assert "/effacer" in out  # the privacy notice, in Bambara
    assert "Votre vie privée" not in out.split("> 2")[1].split("> /aide")[0]
    assert "/signaler" in out  # help lists the French command names for Bambara
    assert "Que voulez-vous faire ?" in out.split("> 1")[-1]  # back in French at the end
    assert "Traceback" not in out


def test_console_resumes_on_the_same_database(tmp_path: Path) -> None:
    db = tmp_path / "console.db"
    assert _console("1\n/effacer\n", db).returncode == 0
    second = _console("", db)  # a new run, nothing typed: /start then end of input
    assert second.returncode == 0
    assert "Bon retour sur Kibaru" in second.stdout


def test_parse_line() -> None:
    sender = Sender("console", "local")
    assert parse_line("  ", sender) is None
    command = parse_line("/langue fr", sender)
    assert isinstance(command, CommandEvent) and (command.name, command.args) == ("langue", "fr")
    location = parse_line("@12.65, -8.0", sender)
    assert isinstance(location, LocationEvent) and location.longitude == -8.0
    text = parse_line("2\n", sender)
    assert isinstance(text, TextEvent) and text.text == "2"


def test_render() -> None:
    question = Question(
        "Q?",
        choices=(Button("a", "Alpha"), Button("b", "Beta")),
        navigation=(Button("_back", "⬅️ Retour"),),
    )
    assert render(question) == "Q?\n  1. Alpha\n  2. Beta\n  [⬅️ Retour]"
    request = Request("Où ?", KeyboardRequest.LOCATION, "📍 Position", ("Passer",))
    assert "@latitude,longitude" in render(request)


async def test_console_channel_in_process(kibaru: Kibaru) -> None:
    out = io.StringIO()
    channel = ConsoleChannel(kibaru, stdin=io.StringIO("3\n"), stdout=out)
    assert await channel.run() == 0
    transcript = out.getvalue()
    assert "> 3" in transcript  # a pipe, not a terminal: the answers are echoed
    assert transcript.rstrip().endswith("  6. 🌐 Language")
    assert "What would you like to do?" in transcript


async def test_the_console_shows_what_the_outbox_holds_for_its_user_only(kibaru: Kibaru) -> None:
    """An export (built by the worker), and a message queued for this person, are shown after
    the next answer, once; a message for another console user waits for them."""
    from storage import outbox, roles, users
    from storage.outbox import Outgoing
    from storage.roles import Role

    first = io.StringIO()
    await ConsoleChannel(kibaru, "awa", stdin=io.StringIO("1\n"), stdout=first).run()
    now = kibaru.clock.now()
    async with kibaru.db.transaction() as conn:
        awa = await users.find(conn, "console", "awa")
        assert awa is not None
        await roles.grant(conn, awa.id, Role.COORDINATOR, now)
        for chat in ("awa", "moussa"):
            await outbox.enqueue(
                conn,
                key=f"notice:{chat}",
                channel="console",
                chat_id=chat,
                outgoing=Outgoing("⏰ Rappel", buttons=((("Je viendrai", "!rsvp:1:yes"),),)),
                now=now,
            )
    out = io.StringIO()
    await ConsoleChannel(
        kibaru, "awa", stdin=io.StringIO("/export mois\n/aide\n"), stdout=out
    ).run()
    transcript = out.getvalue()
    assert transcript.count("📬 ⏰ Rappel") == 1
    assert "[Je viendrai → !rsvp:1:yes]" in transcript
    assert "📬 ✅ Export prêt" in transcript and "kibaru-reports-" in transcript
    async with kibaru.db.reading() as conn:
        rows = await conn.execute_fetchall(
            "SELECT key, status FROM outbox WHERE key LIKE 'notice:%'"
        )
    assert sorted(tuple(r) for r in rows) == [("notice:awa", "sent"), ("notice:moussa", "queued")]

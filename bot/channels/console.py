"""The console channel: chat with Kibaru in a terminal, or script it through a pipe.

Same flows and same database as Telegram, so anyone can try the bot without a token, and
trainers can rehearse a conversation. Choices are printed numbered; typing the number, the
label, or a /command works as on Telegram. `@12.65,-8.00` shares a location.

What Telegram users get later or from others (an invitation, a reminder, an alert, an export
file) goes through the outbox. The console has no sender running in the background (the other
people are not connected): after each answer it shows, marked 📬, what the outbox holds for
this person and is due, and builds the exports asked for. What is for someone else waits until
they open the console (`--chat NAME`).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from typing import TextIO

from bot.app import Kibaru
from bot.inbound import (
    ACTION_MARK,
    ActionEvent,
    CommandEvent,
    InboundEvent,
    LocationEvent,
    Sender,
    TextEvent,
)
from bot.outbound import ActionMessage, Media, Message, Question, RemoveKeyboard, Request
from handlers.exports.worker import ExportWorker
from storage import outbox
from storage.outbox import Outgoing

CONSOLE = "console"
#: due console rows looked at after each answer (all console users' together)
MAILBOX_SCAN = 1000
_LOCATION = re.compile(r"^@\s*(-?\d+(?:\.\d+)?)\s*[,; ]\s*(-?\d+(?:\.\d+)?)\s*$")


def _language_hint() -> str | None:
    """The terminal's language (LANG=fr_ML.UTF-8 -> fr), used until the user picks one."""
    value = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG")
    if not value or value in ("C", "POSIX") or value.startswith("C."):
        return None
    return value.split("_")[0].split(".")[0].lower() or None


def parse_line(line: str, sender: Sender) -> InboundEvent | None:
    """The event a typed line stands for; None for an empty line."""
    text = line.strip()
    if not text:
        return None
    if text.startswith("/") and len(text) > 1:
        head, _, args = text[1:].partition(" ")
        return CommandEvent(sender, name=head.split("@")[0].lower(), args=args.strip())
    location = _LOCATION.match(text)
    if location:
        return LocationEvent(sender, latitude=float(location[1]), longitude=float(location[2]))
    if text.startswith(ACTION_MARK) and len(text) > 1 and " " not in text:
        parts = text[len(ACTION_MARK) :].split(":")
        return ActionEvent(sender, name=parts[0], args=tuple(parts[1:]))
    return TextEvent(sender, text=line.rstrip("\r\n"))


def render(message: Message) -> str:
    """A reply as plain text lines: numbered choices, navigation words, keyboard hints."""
    lines = [message.text] if message.text else []
    if isinstance(message, Question):
        if message.numbered:
            lines += [f"  {i}. {b.label}" for i, b in enumerate(message.choices, start=1)]
        elif message.choices:
            lines.append("  " + "   ".join(f"[{b.label}]" for b in message.choices))
        if message.navigation:
            lines.append("  " + "   ".join(f"[{b.label}]" for b in message.navigation))
    elif isinstance(message, Request):
        hint = "@latitude,longitude" if message.request == "location" else "+223…"
        lines.append(f"  [{message.button_label}: {hint}]")
        lines += [f"  [{label}]" for label in message.alternatives]
    elif isinstance(message, Media):
        lines.insert(0, f"[{message.kind.value}]")
    elif isinstance(message, ActionMessage):
        # No buttons to tap here: typing the action's data does the same ("!rv:12:val").
        lines += [
            "  " + "   ".join(f"[{b.label} → {b.key}]" for b in row) for row in message.actions
        ]
    elif isinstance(message, RemoveKeyboard):
        pass
    return "\n".join(lines)


def render_outgoing(outgoing: Outgoing) -> str:
    """An outbox message as a console line: 📬, or ✏️ for an edit of an earlier one."""
    lines = [("✏️ " if outgoing.edit_message_id is not None else "📬 ") + outgoing.text]
    lines += [f"  [{kind}: {file_id}]" for kind, file_id in outgoing.media]
    lines += [f"  [{kind}: {path}]" for kind, path in outgoing.files]
    lines += [
        "  " + "   ".join(f"[{label} → {data}]" for label, data in row) for row in outgoing.buttons
    ]
    return "\n".join(lines)


class ConsoleChannel:
    def __init__(
        self,
        kibaru: Kibaru,
        chat_id: str = "local",
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
    ) -> None:
        self.kibaru = kibaru
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.sender = Sender(CONSOLE, chat_id, language_hint=_language_hint())
        self.interactive = self.stdin.isatty()
        self.exports = ExportWorker(kibaru.db, kibaru.clock, kibaru.settings, kibaru.catalogs)

    def _print(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    async def _handle(self, event: InboundEvent) -> None:
        for reply in await self.kibaru.conversations.handle(event):
            self._print(render(reply))
            self._print("")
        await self._mailbox()

    async def _mailbox(self) -> None:
        """This person's due outbox rows, shown and marked sent (after the commit: the
        console is for trying the bot, a crash at this point costs a demo line)."""
        await self.exports.run_pending()
        now = self.kibaru.clock.now()
        async with self.kibaru.db.transaction() as conn:
            mine = [
                row
                for row in await outbox.due(conn, [CONSOLE], now, MAILBOX_SCAN)
                if row.chat_id == self.sender.chat_id
            ]
            claimed = set(await outbox.mark_sending(conn, [row.id for row in mine], now))
            for row in mine:
                if row.id in claimed:
                    await outbox.mark_sent(conn, row.id, None, now)
        for row in mine:
            if row.id in claimed:
                self._print(render_outgoing(row.outgoing))
                self._print("")

    async def run(self) -> int:
        """Chat until end of input (Ctrl-D, or the end of a piped script); exit code 0."""
        await self._handle(CommandEvent(self.sender, name="start"))
        while True:
            if self.interactive:
                self.stdout.write("> ")
                self.stdout.flush()
            line = await asyncio.to_thread(self.stdin.readline)
            if line == "":
                if self.interactive:
                    self._print("")
                return 0
            if not self.interactive:
                self._print(f"> {line.rstrip()}")
            event = parse_line(line, self.sender)
            if event is not None:
                await self._handle(event)

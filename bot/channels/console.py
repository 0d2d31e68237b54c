"""The console channel: chat with Kibaru in a terminal, or script it through a pipe.

Same flows and same database as Telegram, so anyone can try the bot without a token, and
trainers can rehearse a conversation. Choices are printed numbered; typing the number, the
label, or a /command works as on Telegram. `@12.65,-8.00` shares a location.
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

CONSOLE = "console"
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

    def _print(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    async def _handle(self, event: InboundEvent) -> None:
        for reply in await self.kibaru.conversations.handle(event):
            self._print(render(reply))
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

"""A fake Telegram for trying Kibaru by hand: the Bot API emulator plus a phone in a terminal.

    .venv/bin/python -m tests.fake_phone            # prints the two settings to give the bot

Start the bot in another terminal with those settings (TELEGRAM_API_URL and
TELEGRAM_BOT_TOKEN), then type here as the user would on Telegram. Each bot message is shown
with its buttons numbered. What you can type:

    any text or /command      sent as a message
    #2  or  #Français         tap a button of the last message (by number or label)
    :sticker :gif :poll :photo :voice :document   send that kind of message
    :location 12.65 -8.0      share a location pin
    :contact +22370000000     share a phone number
    :edit new text            edit your last message
    :user 42 bm               become another user (id, Telegram language)
    :quit                     (or end of input)

It reads a pipe too, for scripted demos: `printf '/start\\n#2\\n' | python -m tests.fake_phone`
(the bot must be running). Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

from tests.bot_api_emulator import BotApiEmulator, SentMessage, SimUser

REPLY_WAIT = 10.0


def show(message: SentMessage) -> str:
    lines = [f"  🤖 {line}" for line in (message.text or "").splitlines()] or ["  🤖"]
    lines += [f"     [{i}] {label}" for i, label in enumerate(message.button_labels, start=1)]
    lines += [f"     (keyboard) {b.get('text')}" for b in message.keyboard]
    if message.removes_keyboard:
        lines.append("     (keyboard removed)")
    return "\n".join(lines)


def handled(emulator: BotApiEmulator, chat_id: int, before: int) -> Callable[[], bool]:
    """True once the bot answered and went back to polling: then all its replies are in
    (the next getUpdates is the last thing the bot does after handling an update)."""

    def check() -> bool:
        calls = emulator.calls
        answered = len(emulator.messages_to(chat_id)) > before
        return answered and bool(calls) and calls[-1].method == "getUpdates"

    return check


async def act(user: SimUser, line: str) -> None:
    """Turn one typed line into what the user does on their phone."""
    if line.startswith("#"):
        choice = line[1:].strip()
        emulator = user.emulator
        with_buttons = [m for m in emulator.messages_to(user.user_id) if m.button_labels]
        if not with_buttons:
            print("  (no buttons on screen)")
            return
        labels = with_buttons[-1].button_labels
        if choice.isdigit() and 1 <= int(choice) <= len(labels):
            choice = labels[int(choice) - 1]
        await user.press(choice)
        return
    if line.startswith(":"):
        word, _, rest = line[1:].partition(" ")
        simple = {
            "sticker": user.send_sticker,
            "gif": user.send_animation,
            "poll": user.send_poll,
            "photo": user.send_photo,
            "voice": user.send_voice,
            "document": user.send_document,
        }
        if word in simple:
            await simple[word]()
        elif word == "location":
            lat, lon = (float(x) for x in rest.split())
            await user.send_location(lat, lon)
        elif word == "contact":
            await user.send_contact(rest.strip() or "+22370000000")
        elif word == "edit":
            await user.edit(user.last_message_id, rest)
        else:
            print(f"  (unknown action :{word})")
        return
    await user.send_text(line)


async def main(port: int) -> int:
    emulator = BotApiEmulator()
    await emulator.start(port)
    print("Fake Telegram is listening. Start the bot elsewhere with:", file=sys.stderr)
    print(
        f"  TELEGRAM_API_URL={emulator.base_url} TELEGRAM_BOT_TOKEN={emulator.token} "
        ".venv/bin/python run_bot.py\n",
        file=sys.stderr,
    )
    user = emulator.user(10_001, "Awa", "fr")
    shown = 0
    try:
        while True:
            if sys.stdin.isatty():
                print(f"{user.first_name} > ", end="", flush=True)
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line or line.strip() == ":quit":
                return 0
            line = line.strip()
            if not line:
                continue
            if not sys.stdin.isatty():
                print(f"{user.first_name} > {line}")
            if line.startswith(":user"):
                parts = line.split()
                user = emulator.user(int(parts[1]), f"User{parts[1]}", (parts[2:] or ["fr"])[0])
                shown = len(emulator.messages_to(user.user_id))
                continue
            before = len(emulator.messages_to(user.user_id))
            try:
                await act(user, line)
            except (AssertionError, ValueError) as problem:
                print(f"  ({str(problem).splitlines()[0]})")
                continue
            try:
                await emulator.wait_for(handled(emulator, user.user_id, before), timeout=REPLY_WAIT)
            except AssertionError:
                print("  (no answer yet: is the bot running?)")
            for message in emulator.messages_to(user.user_id)[shown:]:
                print(show(message))
            shown = len(emulator.messages_to(user.user_id))
    finally:
        await emulator.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A fake Telegram to try Kibaru by hand.")
    parser.add_argument("--port", type=int, default=8081)
    sys.exit(asyncio.run(main(parser.parse_args().port)))

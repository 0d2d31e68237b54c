"""Start Kibaru: `python run_bot.py` (Telegram) or `python run_bot.py --console`.

Operator-facing messages here are in English, like the logs; everything a chat user reads
goes through the catalogs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

from bot import logs
from bot.settings import Settings, SettingsError, load_settings

NO_TOKEN_HELP = """\
Kibaru needs a Telegram bot token to run on Telegram.

  1. In Telegram, open a chat with @BotFather and send /newbot; follow its two questions.
  2. It answers with a token like 123456789:AAH...; put it in a file named .env here:
         TELEGRAM_BOT_TOKEN=123456789:AAH...
     (or export TELEGRAM_BOT_TOKEN in your shell), then run this command again.

To try Kibaru right now without Telegram, chat with it in this terminal:
  .venv/bin/python run_bot.py --console
"""


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="run_bot.py", description="Kibaru, the community early-warning chat bot."
    )
    parser.add_argument(
        "--console", action="store_true", help="chat with the bot in this terminal (no token)"
    )
    parser.add_argument(
        "--chat",
        default="local",
        help="console chat id, to play several users on one database (default: local)",
    )
    return parser.parse_args(argv)


async def _run_console(settings: Settings, chat_id: str) -> int:
    from bot.app import Kibaru
    from bot.channels.console import ConsoleChannel

    kibaru = await Kibaru.open(settings)
    try:
        return await ConsoleChannel(kibaru, chat_id=chat_id).run()
    finally:
        await kibaru.close()


async def _run_telegram(settings: Settings) -> int:
    from telegram.error import InvalidToken, NetworkError

    from bot.app import Kibaru
    from bot.channels.telegram import TelegramChannel
    from bot.scheduler import Jobs

    kibaru = await Kibaru.open(settings)
    channel = TelegramChannel(kibaru)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        try:
            await channel.start()
        except InvalidToken:
            print(
                "Telegram refused TELEGRAM_BOT_TOKEN: check it with @BotFather (/token).",
                file=sys.stderr,
            )
            return 2
        except NetworkError as error:
            print(
                f"Cannot reach the Bot API at {settings.telegram_api_url} "
                f"({type(error).__name__}); check the network or TELEGRAM_API_URL.",
                file=sys.stderr,
            )
            return 1
        assert channel.poller is not None
        jobs = Jobs(kibaru, kick=channel.outbox.kick)
        jobs.start()
        polling = asyncio.create_task(channel.poller.wait())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        jobs.stop()
        if polling.done() and isinstance(polling.exception(), InvalidToken):
            print("Telegram no longer accepts TELEGRAM_BOT_TOKEN (revoked?).", file=sys.stderr)
            await channel.stop()
            return 2
        logging.getLogger("kibaru").info("stopping")
        await channel.stop()
        return 0
    finally:
        await kibaru.close()


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"Kibaru cannot start: {error}", file=sys.stderr)
        return 2
    # In the console, log lines would mix with the chat: only problems, unless asked.
    quiet = args.console and not os.environ.get("KIBARU_LOG_LEVEL")
    logs.configure("WARNING" if quiet else settings.log_level)
    if args.console:
        return asyncio.run(_run_console(settings, args.chat))
    if not settings.telegram_token:
        print(NO_TOKEN_HELP, file=sys.stderr)
        return 2
    return asyncio.run(_run_telegram(settings))


if __name__ == "__main__":
    sys.exit(main())

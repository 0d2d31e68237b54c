"""The baseline for `benchmarks/interactive.py`: python-telegram-bot with nothing else.

Same transport as Kibaru (PTB Application, long polling, updates one after another) but no
database, no conversation engine and no catalogs, so Kibaru's throughput divided by this one's
is the price of everything Kibaru adds on top of PTB. Every text or command is answered with one
message carrying two inline buttons; every button press with answerCallbackQuery and one such
message, sent concurrently as Kibaru does.

Settings come from the same variables as `run_bot.py`: TELEGRAM_BOT_TOKEN, TELEGRAM_API_URL.
"""

from __future__ import annotations

import asyncio
import logging
import os

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Français", callback_data="lang:fr"),
            InlineKeyboardButton("English", callback_data="lang:en"),
        ]
    ]
)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text or command: one message with two buttons."""
    message = update.effective_message
    assert message is not None and message.text is not None
    await context.bot.send_message(
        message.chat_id, f"Received {len(message.text)} characters.", reply_markup=KEYBOARD
    )


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button press: stop the spinner and answer with a message, both at once."""
    query = update.callback_query
    assert query is not None and query.message is not None
    await asyncio.gather(
        query.answer(),
        context.bot.send_message(
            query.message.chat.id, f"You chose {query.data}.", reply_markup=KEYBOARD
        ),
    )


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    api = os.environ.get("TELEGRAM_API_URL", "https://api.telegram.org")
    app = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .concurrent_updates(False)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, on_text))
    app.add_handler(CallbackQueryHandler(on_press))
    app.run_polling(timeout=10, allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    main()

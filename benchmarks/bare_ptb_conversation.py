"""The baseline for `benchmarks/reporting.py`: a report conversation in bare python-telegram-bot.

A 4-state `ConversationHandler` and nothing else: no database (the draft lives in PTB's
in-memory ``user_data``), no catalogs, no engine. /report -> CATEGORY (category buttons, then
when and what time, still buttons) -> DETAILS (a location, a button, typed text) -> OPTIONS
(buttons: people, evidence, contact) -> CONFIRM (the summary's "Send" button) -> the receipt.
It takes the same 11 updates of the same kinds as Kibaru's report in the benchmark (2 texts,
8 button presses, 1 location) and answers each with one message carrying inline buttons, as
many buttons as Kibaru's keyboard at that step; a press is answered with answerCallbackQuery
and that message at once, as Kibaru does. Kibaru sends two more messages per report (one that
removes its location keyboard, and its receipt apart from the menu): 13 against 11.
/start and a language button give the onboarding the benchmark plays before its measured window.

Same transport as Kibaru (PTB Application, long polling, updates one after another), so
Kibaru's throughput divided by this one's is the price of everything Kibaru adds on top of PTB.
Settings come from the same variables as `run_bot.py`: TELEGRAM_BOT_TOKEN, TELEGRAM_API_URL.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import warnings

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

CATEGORY, DETAILS, OPTIONS, CONFIRM = range(4)
REFERENCES = itertools.count(1)
NAVIGATION = [
    InlineKeyboardButton("Back", callback_data="back"),
    InlineKeyboardButton("Cancel", callback_data="cancel"),
]
# As many buttons as Kibaru's keyboards at the same steps (17 categories, 4 days, 5 times...):
# PTB builds every button it sends and parses every button of the Message it gets back, so the
# size of the keyboards is part of the work and the baseline does the same.
CATEGORIES = ["Armed attack"] + [f"Category {n}" for n in range(2, 18)]
MENU = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton(label, callback_data=f"menu:{n}")
            for n, label in enumerate(("Report", "My reports", "Alerts"))
        ],
        [
            InlineKeyboardButton(label, callback_data=f"menu:{n + 3}")
            for n, label in enumerate(("Sessions", "Help", "Language"))
        ],
    ]
)


def _keyboard(prefix: str, *labels: str, columns: int = 2) -> InlineKeyboardMarkup:
    """The labels as buttons ``prefix:N`` (``prefix`` alone for one button), ``columns`` a row,
    then Back and Cancel."""
    buttons = [
        InlineKeyboardButton(label, callback_data=f"{prefix}:{n}" if len(labels) > 1 else prefix)
        for n, label in enumerate(labels)
    ]
    rows = [buttons[i : i + columns] for i in range(0, len(buttons), columns)]
    return InlineKeyboardMarkup([*rows, NAVIGATION])


async def _say(update: Update, text: str, markup: InlineKeyboardMarkup) -> None:
    """One message with buttons; for a press, stop the spinner at the same time."""
    chat = update.effective_chat
    assert chat is not None
    bot = update.get_bot()
    query = update.callback_query
    if query is None:
        await bot.send_message(chat.id, text, reply_markup=markup)
    else:
        await asyncio.gather(query.answer(), bot.send_message(chat.id, text, reply_markup=markup))


def _draft(context: ContextTypes.DEFAULT_TYPE) -> dict[str, object]:
    assert context.user_data is not None
    return context.user_data.setdefault("draft", {})


# -- outside the conversation: onboarding ---------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    languages = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=f"lang:{code}")
                for code, label in (("fr", "Français"), ("bm", "Bamanankan"), ("en", "English"))
            ]
        ]
    )
    await _say(update, "Welcome! Choose your language:", languages)


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert context.user_data is not None and update.callback_query is not None
    context.user_data["language"] = update.callback_query.data
    await _say(update, "What would you like to do?", MENU)


# -- the conversation ---------------------------------------------------------------------


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/report, or Back: start a new draft."""
    assert context.user_data is not None
    context.user_data["draft"] = {}
    keyboard = _keyboard("cat", *CATEGORIES, columns=1)
    await _say(update, "What did you see or hear? Choose a category:", keyboard)
    return CATEGORY


async def on_category(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | None:
    """Category, then when, then what time: buttons all along, the last one moves on."""
    assert update.callback_query is not None and update.callback_query.data is not None
    field, _, value = update.callback_query.data.partition(":")
    _draft(context)[field] = value
    if field == "cat":
        days = ("Right now", "Today", "Yesterday", "Another day")
        await _say(update, "When did it happen?", _keyboard("when", *days))
        return None  # stay in CATEGORY
    if field == "when":
        times = ("Morning", "Afternoon", "Evening", "Night", "Don't know")
        await _say(update, "At what time, roughly?", _keyboard("time", *times))
        return None
    where = ("Choose from a list", "Type the place")
    await _say(update, "Where did it happen? Share the location.", _keyboard("where", *where))
    return DETAILS


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.location is not None
    where = update.message.location
    _draft(context)["where"] = (where.latitude, where.longitude)
    await _say(update, "Any detail about the place? (optional)", _keyboard("skip", "Skip"))


async def on_skip_detail(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _say(update, "Tell what happened, in a few words.", InlineKeyboardMarkup([NAVIGATION]))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.message is not None
    _draft(context)["what"] = update.message.text
    keyboard = _keyboard("people", "Yes", "No one", "Don't know", columns=3)
    await _say(update, "Were people hurt?", keyboard)
    return OPTIONS


async def on_option(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | None:
    """People, evidence (skipped), contact: buttons; the contact moves on to the summary."""
    assert update.callback_query is not None and update.callback_query.data is not None
    field, _, value = update.callback_query.data.partition(":")
    draft = _draft(context)
    draft[field] = value
    if field == "people":
        await _say(update, "Any photos or files? Send them, or skip.", _keyboard("skip", "Skip"))
        return None
    if field == "skip":
        contacts = ("Stay anonymous", "Via the bot", "Give my number")
        await _say(update, "May analysts contact you?", _keyboard("contact", *contacts, columns=1))
        return None
    summary = "\n".join(f"• {key}: {value}" for key, value in draft.items())
    keyboard = _keyboard("confirm", "Send", "Change an answer")
    await _say(update, f"Your report:\n{summary}\n\nAll correct?", keyboard)
    return CONFIRM


async def on_send(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert context.user_data is not None
    context.user_data.pop("draft", None)
    await _say(update, f"Report received. Reference: BARE-{next(REFERENCES):06d}.", MENU)
    return ConversationHandler.END


async def on_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert context.user_data is not None
    context.user_data.pop("draft", None)
    await _say(update, "Cancelled.", MENU)
    return ConversationHandler.END


def conversation() -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    fallbacks = [
        CallbackQueryHandler(on_cancel, pattern="^cancel$"),
        CommandHandler("cancel", on_cancel),
        CallbackQueryHandler(report, pattern="^back$"),  # not played: starts over
    ]
    with warnings.catch_warnings():  # per_message=False with CallbackQueryHandler: on purpose
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=[CommandHandler("report", report)],
            states={
                CATEGORY: [CallbackQueryHandler(on_category, pattern="^(cat|when|time):")],
                DETAILS: [
                    MessageHandler(filters.LOCATION, on_location),
                    CallbackQueryHandler(on_skip_detail, pattern="^skip$"),
                    MessageHandler(filters.TEXT & ~filters.COMMAND, on_text),
                ],
                OPTIONS: [CallbackQueryHandler(on_option, pattern="^(people:|skip$|contact:)")],
                CONFIRM: [CallbackQueryHandler(on_send, pattern="^confirm:0$")],
            },
            fallbacks=fallbacks,
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
    app.add_handler(conversation())
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(language, pattern="^lang:"))
    app.run_polling(
        timeout=10, allowed_updates=["message", "callback_query"], drop_pending_updates=False
    )


if __name__ == "__main__":
    main()

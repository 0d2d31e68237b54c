"""Logging set-up that keeps personal data out of the logs.

Kibaru's own log lines carry update ids, flow and step names and error types only. Some
libraries log more than that: httpx writes every request URL (a Bot API URL contains the
bot's token) at INFO, aiosqlite writes every SQL statement with its parameters (answers,
chat ids) at DEBUG, and python-telegram-bot writes every update and every message it sends at
DEBUG. Their loggers are held above those levels whatever level Kibaru runs at.
"""

from __future__ import annotations

import logging
import sys

#: libraries whose lower levels may contain secrets or personal data, and the lowest safe level
GUARDED_LOGGERS: dict[str, int] = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "hpack": logging.WARNING,
    "aiosqlite": logging.WARNING,
    "apscheduler": logging.WARNING,
    "telegram": logging.INFO,
}


def guard_library_loggers(base: int = logging.INFO) -> None:
    """Pin each guarded logger at its safe level, or at `base` when that is higher."""
    for name, level in GUARDED_LOGGERS.items():
        logging.getLogger(name).setLevel(max(level, base))


def configure(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    guard_library_loggers(logging.getLevelName(level))

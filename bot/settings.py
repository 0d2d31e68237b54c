"""Settings from environment variables (and an optional `.env` file).

Every value is checked once at start-up so that a mistake stops the bot with one line naming
the variable, instead of surfacing hours later as a traceback in front of a user.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.i18n import SHIPPED_LANGUAGES

DEFAULT_API_URL = "https://api.telegram.org"
_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class SettingsError(Exception):
    """A setting is wrong; the message names the variable and says how to fix it."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


def default_cap_sender() -> str:
    """`kibaru@<this machine's name>`: unique enough to start; set KIBARU_CAP_SENDER to the
    organisation's own address so that identifiers do not change with the machine."""
    return f"kibaru@{socket.gethostname() or 'localhost'}"


@dataclass(frozen=True)
class ReportTime:
    """When a periodic report goes out, in KIBARU_TIMEZONE: `day` is a weekday (0 Monday ..
    6 Sunday) for the weekly report, a day of the month (1..28, so that every month has it)
    for the monthly bulletin."""

    day: int
    at: time


@dataclass(frozen=True)
class Settings:
    telegram_token: str | None
    telegram_api_url: str = DEFAULT_API_URL
    database_path: Path = Path("kibaru.db")
    admins: tuple[int, ...] = ()
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Africa/Bamako"))
    default_language: str = "fr"
    log_level: str = "INFO"
    #: folder where media files of reports are kept
    media_dir: Path = Path("media")
    #: confirmed reports one user may send in an hour (flood control)
    reports_per_hour: int = 5
    #: the Telegram group where reports are posted for review; None: each validator privately
    review_chat_id: int | None = None
    #: how long a report may wait for a decision before coordinators are told
    review_sla: timedelta = timedelta(hours=2)
    #: the same for categories flagged urgent (lives may be at stake)
    urgent_review_sla: timedelta = timedelta(minutes=30)
    #: the oldest age counted as "youth" in CCS-C participation figures: the upper bound of
    #: an age group (17, 24 or 35), since only age groups are asked
    youth_max_age: int = 35
    #: how long before a CCS-C session those who answered yes or maybe are reminded
    reminders: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2))
    #: where each public alert is POSTed as a CAP 1.2 message (partner platforms); None: not
    cap_webhook: str | None = None
    #: key of the HMAC-SHA256 signature of each POST's body (header X-Kibaru-Signature)
    cap_secret: str | None = None
    #: CAP <sender>: who partners see the alerts come from; it prefixes every identifier
    cap_sender: str = field(default_factory=default_cap_sender)
    #: when the weekly alert report goes out (None: never)
    weekly_report: ReportTime | None = ReportTime(0, time(8, 0))
    #: when the monthly bulletin goes out (None: never)
    monthly_bulletin: ReportTime | None = ReportTime(1, time(8, 0))
    #: messages one person may send at once before the flood control drops them (bot/flood.py)
    flood_burst: int = 20
    #: messages a second one person may keep sending once the burst is spent
    flood_rate: float = 1.0

    @property
    def timezone_name(self) -> str:
        return self.timezone.key

    @property
    def charts_dir(self) -> Path:
        """Where bulletin charts wait to be sent: a `charts` folder next to the database, so
        that they live and are backed up with the data they were drawn from."""
        return self.database_path.parent / "charts"

    @property
    def exports_dir(self) -> Path:
        """Where export files wait to be sent: a folder beside the media folder, on the same
        disk the operator chose for files, removed some time after sending (/export)."""
        return self.media_dir.parent / "exports"


def _parse_token(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    token = raw.strip()
    if not _TOKEN_RE.match(token):
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN",
            "this does not look like a bot token (expected digits, a colon, then letters, "
            "e.g. 123456789:AAH...); copy it again from @BotFather",
        )
    return token


def _parse_api_url(raw: str | None) -> str:
    if raw is None or not raw.strip():
        return DEFAULT_API_URL
    url = raw.strip().rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(
            "TELEGRAM_API_URL",
            f"expected an http(s) URL such as {DEFAULT_API_URL}, without /bot<token>",
        )
    if "/bot" in parsed.path:
        raise SettingsError(
            "TELEGRAM_API_URL",
            "give the server's base URL only; Kibaru adds /bot<token>/<method> itself",
        )
    return url


def _parse_admins(raw: str | None) -> tuple[int, ...]:
    if raw is None or not raw.strip():
        return ()
    ids: list[int] = []
    for part in raw.split(","):
        item = part.strip()
        if not item:
            continue
        if not re.fullmatch(r"-?\d+", item):
            raise SettingsError(
                "KIBARU_ADMINS",
                f"'{item}' is not a Telegram user id; give numeric ids separated by commas "
                "(a user can see theirs with @userinfobot)",
            )
        ids.append(int(item))
    return tuple(dict.fromkeys(ids))


def _parse_timezone(raw: str | None) -> ZoneInfo:
    name = (raw or "").strip() or "Africa/Bamako"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            "KIBARU_TIMEZONE", f"unknown time zone '{name}'; use an IANA name like Africa/Bamako"
        ) from None


def _parse_language(raw: str | None) -> str:
    code = (raw or "").strip() or "fr"
    if code not in SHIPPED_LANGUAGES:
        raise SettingsError(
            "KIBARU_LANGUAGE",
            f"'{code}' is not a shipped language; choose one of {', '.join(SHIPPED_LANGUAGES)}",
        )
    return code


def _parse_log_level(raw: str | None) -> str:
    level = (raw or "").strip().upper() or "INFO"
    if level not in _LOG_LEVELS:
        raise SettingsError("KIBARU_LOG_LEVEL", f"choose one of {', '.join(_LOG_LEVELS)}")
    return level


def _parse_db(raw: str | None) -> Path:
    path = Path((raw or "").strip() or "kibaru.db")
    parent = path.expanduser().resolve().parent
    if not parent.is_dir():
        raise SettingsError("KIBARU_DB", f"the folder {parent} does not exist; create it first")
    return path


def _parse_positive_int(variable: str, raw: str | None, default: int) -> int:
    if raw is None or not raw.strip():
        return default
    if not raw.strip().isdigit() or int(raw) < 1:
        raise SettingsError(variable, f"expected a whole number of at least 1, not '{raw.strip()}'")
    return int(raw)


def _parse_chat_id(variable: str, raw: str | None) -> int | None:
    if raw is None or not raw.strip():
        return None
    if not re.fullmatch(r"-?\d+", raw.strip()):
        raise SettingsError(
            variable,
            f"'{raw.strip()}' is not a Telegram chat id; a group's id is a negative number "
            "such as -1001234567890 (add the bot to the group and send /moi there to see it)",
        )
    return int(raw.strip())


_DURATION_RE = re.compile(r"^(?:(\d+)\s*h)?\s*(?:(\d+)\s*(?:m|min))?$", re.IGNORECASE)


def parse_duration(variable: str, raw: str | None, default: timedelta) -> timedelta:
    """ "2h", "90m", "1h30m" or "45min": how people write durations."""
    if raw is None or not raw.strip():
        return default
    match = _DURATION_RE.match(raw.strip())
    if not match or not any(match.groups()):
        raise SettingsError(variable, f"expected a duration such as 2h, 90m or 1h30m, not '{raw}'")
    duration = timedelta(hours=int(match[1] or 0), minutes=int(match[2] or 0))
    if duration <= timedelta(0):
        raise SettingsError(variable, "the duration must be longer than zero")
    return duration


def parse_reminders(raw: str | None) -> tuple[timedelta, ...]:
    """ "24h,2h": each a duration before the start; an empty value keeps the default, and
    "none" turns reminders off."""
    default = (timedelta(hours=24), timedelta(hours=2))
    if raw is None or not raw.strip():
        return default
    if raw.strip().lower() in ("none", "off", "0"):
        return ()
    found: list[timedelta] = []
    for part in raw.split(","):
        if not part.strip():
            continue
        delay = parse_duration("KIBARU_REMINDERS", part, default[0])
        if delay > timedelta(days=30):
            raise SettingsError("KIBARU_REMINDERS", f"'{part.strip()}' is more than 30 days")
        found.append(delay)
    return tuple(sorted(set(found), reverse=True))


def _parse_flood_rate(raw: str | None) -> float:
    if raw is None or not raw.strip():
        return 1.0
    text = raw.strip()
    try:
        rate = float(text.replace(",", "."))
    except ValueError:
        rate = float("nan")
    if not 0 < rate <= 1000:  # also refuses nan and inf
        raise SettingsError(
            "KIBARU_FLOOD_RATE",
            "expected the messages a second one person may keep sending, a number above 0 "
            f"such as 1 or 0.5, not {text[:20]!r}",
        )
    return rate


def _parse_media_dir(raw: str | None) -> Path:
    path = Path((raw or "").strip() or "media")
    if path.exists() and not path.is_dir():
        raise SettingsError("KIBARU_MEDIA_DIR", f"{path} exists and is not a folder")
    return path


#: the upper bounds of the age groups asked (under 18, 18-24, 25-35): the only ages at which
#: "youth" can end, since exact ages are never asked
YOUTH_MAX_AGES = (17, 24, 35)


def _parse_youth_max_age(raw: str | None) -> int:
    if raw is None or not raw.strip():
        return 35
    text = raw.strip()
    if not text.isdigit() or int(text) not in YOUTH_MAX_AGES:
        raise SettingsError(
            "KIBARU_YOUTH_MAX_AGE",
            "expected 17, 24 or 35 (the oldest age of an age group asked: under 18, 18-24, "
            f"25-35), not {text[:20]!r}",
        )
    return int(text)


def _parse_cap_webhook(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    url = raw.strip()
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or any(c.isspace() for c in url):
        raise SettingsError(
            "KIBARU_CAP_WEBHOOK",
            "expected the http(s) URL where partners receive CAP alerts, such as "
            "https://alerts.example.org/cap (leave it empty to send none)",
        )
    return url


#: an HMAC key shorter than this is guessable; `openssl rand -hex 32` gives a good one
_MIN_SECRET = 16


def _parse_cap_secret(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    secret = raw.strip()
    if len(secret) < _MIN_SECRET:
        raise SettingsError(
            "KIBARU_CAP_SECRET",
            f"too short ({len(secret)} characters, at least {_MIN_SECRET}); share a long random "
            "key with the partner, e.g. the output of `openssl rand -hex 32`",
        )
    return secret


def _parse_cap_sender(raw: str | None) -> str:
    if raw is None or not raw.strip():
        return default_cap_sender()
    sender = raw.strip()
    if any(c.isspace() or c in ",<&" for c in sender):
        raise SettingsError(
            "KIBARU_CAP_SENDER",
            "CAP forbids spaces, commas, '<' and '&' in a sender; use an address such as "
            "kibaru@wanep-mali.org or a URN",
        )
    return sender


_WEEKDAYS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (
            ("mon", "monday", "lun", "lundi"),
            ("tue", "tuesday", "mar", "mardi"),
            ("wed", "wednesday", "mer", "mercredi"),
            ("thu", "thursday", "jeu", "jeudi"),
            ("fri", "friday", "ven", "vendredi"),
            ("sat", "saturday", "sam", "samedi"),
            ("sun", "sunday", "dim", "dimanche"),
        )
    )
    for name in names
}
_CLOCK_RE = re.compile(r"^([01]?\d|2[0-3])[:h]([0-5]\d)$", re.IGNORECASE)
_OFF = ("off", "none", "non", "no")


def _parse_clock(variable: str, text: str, example: str) -> time:
    match = _CLOCK_RE.match(text)
    if not match:
        raise SettingsError(
            variable, f"'{text[:20]}' is not a time of day; write it as 08:00 (e.g. '{example}')"
        )
    return time(int(match[1]), int(match[2]))


def parse_weekly_report(raw: str | None) -> ReportTime | None:
    """ "mon 08:00" (or "lundi 08:00"); "off" sends no weekly report."""
    variable, example = "KIBARU_WEEKLY_REPORT", "mon 08:00"
    text = (raw or "").strip().lower()
    if not text:
        return ReportTime(0, time(8, 0))
    if text in _OFF:
        return None
    parts = text.split()
    if len(parts) != 2 or parts[0].rstrip(".") not in _WEEKDAYS:
        raise SettingsError(
            variable,
            f"expected a weekday and a time such as '{example}' (mon, tue, wed, thu, fri, sat, "
            f"sun), or 'off', not '{text[:30]}'",
        )
    return ReportTime(_WEEKDAYS[parts[0].rstrip(".")], _parse_clock(variable, parts[1], example))


def parse_monthly_bulletin(raw: str | None) -> ReportTime | None:
    """ "1 08:00": the day of the month (1 to 28) and the time; "off" sends none."""
    variable, example = "KIBARU_MONTHLY_BULLETIN", "1 08:00"
    text = (raw or "").strip().lower()
    if not text:
        return ReportTime(1, time(8, 0))
    if text in _OFF:
        return None
    parts = text.split()
    if len(parts) != 2 or not parts[0].isdigit() or not 1 <= int(parts[0]) <= 28:
        raise SettingsError(
            variable,
            f"expected a day of the month from 1 to 28 and a time such as '{example}', or "
            f"'off', not '{text[:30]}'",
        )
    return ReportTime(int(parts[0]), _parse_clock(variable, parts[1], example))


def load_settings(
    env: Mapping[str, str] | None = None, dotenv_path: Path | None = None
) -> Settings:
    """Read settings; real environment variables win over the `.env` file."""
    if env is None:
        values: dict[str, str] = {}
        dotenv_file = dotenv_path or Path(".env")
        if dotenv_file.is_file():
            from dotenv import dotenv_values

            values.update({k: v for k, v in dotenv_values(dotenv_file).items() if v is not None})
        values.update(os.environ)
        env = values
    return Settings(
        telegram_token=_parse_token(env.get("TELEGRAM_BOT_TOKEN")),
        telegram_api_url=_parse_api_url(env.get("TELEGRAM_API_URL")),
        database_path=_parse_db(env.get("KIBARU_DB")),
        admins=_parse_admins(env.get("KIBARU_ADMINS")),
        timezone=_parse_timezone(env.get("KIBARU_TIMEZONE")),
        default_language=_parse_language(env.get("KIBARU_LANGUAGE")),
        log_level=_parse_log_level(env.get("KIBARU_LOG_LEVEL")),
        media_dir=_parse_media_dir(env.get("KIBARU_MEDIA_DIR")),
        reports_per_hour=_parse_positive_int(
            "KIBARU_REPORTS_PER_HOUR", env.get("KIBARU_REPORTS_PER_HOUR"), 5
        ),
        review_chat_id=_parse_chat_id("KIBARU_REVIEW_CHAT_ID", env.get("KIBARU_REVIEW_CHAT_ID")),
        review_sla=parse_duration(
            "KIBARU_REVIEW_SLA", env.get("KIBARU_REVIEW_SLA"), timedelta(hours=2)
        ),
        urgent_review_sla=parse_duration(
            "KIBARU_REVIEW_SLA_URGENT", env.get("KIBARU_REVIEW_SLA_URGENT"), timedelta(minutes=30)
        ),
        youth_max_age=_parse_youth_max_age(env.get("KIBARU_YOUTH_MAX_AGE")),
        reminders=parse_reminders(env.get("KIBARU_REMINDERS")),
        cap_webhook=_parse_cap_webhook(env.get("KIBARU_CAP_WEBHOOK")),
        cap_secret=_parse_cap_secret(env.get("KIBARU_CAP_SECRET")),
        cap_sender=_parse_cap_sender(env.get("KIBARU_CAP_SENDER")),
        weekly_report=parse_weekly_report(env.get("KIBARU_WEEKLY_REPORT")),
        monthly_bulletin=parse_monthly_bulletin(env.get("KIBARU_MONTHLY_BULLETIN")),
        flood_burst=_parse_positive_int("KIBARU_FLOOD_BURST", env.get("KIBARU_FLOOD_BURST"), 20),
        flood_rate=_parse_flood_rate(env.get("KIBARU_FLOOD_RATE")),
    )

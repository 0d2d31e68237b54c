"""Settings: defaults, one clear line per wrong value, `.env` support, the start-up command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import DEFAULT_API_URL, SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAHtest-token_abcdefghijklmnopqrs"


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.telegram_token is None
    assert settings.telegram_api_url == DEFAULT_API_URL
    assert settings.database_path == Path("kibaru.db")
    assert settings.admins == ()
    assert settings.timezone_name == "Africa/Bamako"
    assert settings.default_language == "fr"
    assert (settings.flood_burst, settings.flood_rate) == (20, 1.0)


def test_all_values() -> None:
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": "http://127.0.0.1:8081/",
            "KIBARU_DB": "/tmp/k.db",
            "KIBARU_ADMINS": "12, 34,12",
            "KIBARU_TIMEZONE": "UTC",
            "KIBARU_LANGUAGE": "bm",
            "KIBARU_LOG_LEVEL": "debug",
            "KIBARU_MEDIA_DIR": "/tmp/kibaru-media",
            "KIBARU_REPORTS_PER_HOUR": "12",
            "KIBARU_FLOOD_BURST": "30",
            "KIBARU_FLOOD_RATE": "0,5",
        }
    )
    assert (settings.flood_burst, settings.flood_rate) == (30, 0.5)
    assert settings.media_dir == Path("/tmp/kibaru-media")
    assert settings.reports_per_hour == 12
    assert settings.telegram_token == TOKEN
    assert settings.telegram_api_url == "http://127.0.0.1:8081"
    assert settings.admins == (12, 34)
    assert settings.timezone_name == "UTC"
    assert settings.default_language == "bm"
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
        ("TELEGRAM_API_URL", "api.telegram.org"),
        ("TELEGRAM_API_URL", f"https://api.telegram.org/bot{TOKEN}"),
        ("KIBARU_ADMINS", "12,@awa"),
        ("KIBARU_TIMEZONE", "Africa/Nowhere"),
        ("KIBARU_LANGUAGE", "de"),
        ("KIBARU_LOG_LEVEL", "LOUD"),
        ("KIBARU_DB", "/no/such/folder/kibaru.db"),
        ("KIBARU_REPORTS_PER_HOUR", "0"),
        ("KIBARU_REPORTS_PER_HOUR", "beaucoup"),
        ("KIBARU_FLOOD_BURST", "0"),
        ("KIBARU_FLOOD_BURST", "2.5"),
        ("KIBARU_FLOOD_RATE", "0"),
        ("KIBARU_FLOOD_RATE", "-1"),
        ("KIBARU_FLOOD_RATE", "nan"),
        ("KIBARU_FLOOD_RATE", "vite"),
        ("KIBARU_MEDIA_DIR", "/etc/hostname"),
    ],
)
def test_wrong_value_names_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({variable: value})
    assert raised.value.variable == variable
    assert str(raised.value).startswith(f"{variable}: ")


def test_dotenv_file_and_environment_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("KIBARU_LANGUAGE=en\nKIBARU_ADMINS=5\n", encoding="utf-8")
    monkeypatch.delenv("KIBARU_ADMINS", raising=False)
    monkeypatch.setenv("KIBARU_LANGUAGE", "bm")
    settings = load_settings(dotenv_path=dotenv)
    assert settings.default_language == "bm"  # the real environment wins
    assert settings.admins == (5,)


def _run(args: list[str], env_extra: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIBARU_", "TELEGRAM_"))}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, str(ROOT / "run_bot.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_without_token_it_explains_and_exits_non_zero(tmp_path: Path) -> None:
    result = _run([], {"KIBARU_DB": str(tmp_path / "k.db")}, tmp_path)
    assert result.returncode == 2
    assert "@BotFather" in result.stderr
    assert "--console" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_wrong_setting_stops_with_one_line(tmp_path: Path) -> None:
    result = _run([], {"KIBARU_TIMEZONE": "Mars/Olympus"}, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "KIBARU_TIMEZONE" in lines[0]
    assert "Traceback" not in result.stderr


def test_unreachable_api_is_one_clear_line(tmp_path: Path) -> None:
    # Port 9 on loopback: nothing listens there, so the connection is refused at once.
    result = _run(
        [],
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": "http://127.0.0.1:9",
            "KIBARU_DB": str(tmp_path / "k.db"),
        },
        tmp_path,
    )
    assert result.returncode == 1
    assert "Cannot reach the Bot API at http://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr

"""Catalogs: complete in every shipped language, same placeholders, up to date with the code."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, REFERENCE_LANGUAGE, SHIPPED_LANGUAGES, Catalogs, placeholders

ROOT = Path(__file__).resolve().parent.parent
REVIEW_MARK = "needs review by a native speaker"


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _template() -> Catalog:
    return _read(LOCALES_DIR / "kibaru.pot")


def _catalog(language: str) -> Catalog:
    return _read(LOCALES_DIR / language / "LC_MESSAGES" / "kibaru.po", language)


def _ids(message_id: str | tuple[str, ...]) -> tuple[str, ...]:
    return message_id if isinstance(message_id, tuple) else (message_id,)


def test_template_is_up_to_date_with_the_code() -> None:
    """A new or changed message in the code must be extracted (run `sh locales/update.sh`)."""
    keywords = {**DEFAULT_KEYWORDS, "N_": None, "ngettext": (1, 2)}
    method_map = [("bot/**.py", "python"), ("handlers/**.py", "python")]
    in_code = {
        found[2] for found in extract_from_dir(str(ROOT), method_map=method_map, keywords=keywords)
    }
    in_code = {_ids(m)[0] for m in in_code}
    in_template = {_ids(m.id)[0] for m in _template() if m.id}
    assert in_code - in_template == set(), "run: sh locales/update.sh"
    assert in_template - in_code == set(), "run: sh locales/update.sh"


@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
def test_every_message_exists_with_the_same_placeholders(language: str) -> None:
    catalog = _catalog(language)
    for message in _template():
        if not message.id:
            continue
        entry = catalog.get(message.id)
        assert entry is not None, f"{language}: missing {message.id!r}"
        assert not entry.fuzzy, f"{language}: fuzzy {message.id!r}"
        wanted = placeholders(_ids(message.id)[0])
        strings = _ids(entry.string) if entry.string else ()
        if language == REFERENCE_LANGUAGE and not any(strings):
            continue  # an empty French entry means "as in the code"
        assert strings and all(strings), f"{language}: untranslated {message.id!r}"
        for text in strings:
            assert placeholders(text) == wanted, f"{language}: placeholders of {message.id!r}"


def test_plural_forms() -> None:
    assert _catalog("bm").num_plurals == 1
    assert "plural=0;" in _catalog("bm").plural_forms
    assert _catalog("fr").plural_forms.endswith("plural=(n > 1);")
    assert _catalog("en").num_plurals == 2


def test_bambara_is_marked_for_native_review() -> None:
    for message in _catalog("bm"):
        if message.id:
            comments = " ".join(message.user_comments).lower()
            assert REVIEW_MARK in comments, f"bm: no review mark on {message.id!r}"


def test_catalogs_compile_and_format() -> None:
    from zoneinfo import ZoneInfo

    catalogs = Catalogs(ZoneInfo("Africa/Bamako"))
    for language in SHIPPED_LANGUAGES:
        t = catalogs.get(language)
        text = t._("✅ Langue choisie : {language}.", language="X")
        assert "X" in text
        if language != "fr":
            assert "Langue choisie" not in text, f"{language} not translated"
    assert catalogs.get("xx").language == "fr"  # unknown language: French, never an error
    assert catalogs.get("fr").number(4532) == "4\u202f532"


def test_dates_and_numbers_follow_locale_and_time_zone() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    moment = datetime(2026, 3, 12, 9, 5, tzinfo=UTC)
    bamako = Catalogs(ZoneInfo("Africa/Bamako"))
    assert bamako.get("fr").datetime(moment, "full").startswith("jeudi 12 mars 2026, 09:05")
    assert bamako.get("en").date(moment) == "March 12, 2026"
    assert bamako.get("bm").date(moment) == "12 marisi 2026"
    lagos = Catalogs(ZoneInfo("Africa/Lagos"))  # UTC+1: the setting moves every time shown
    assert lagos.get("fr").time(moment) == "10:05"
    assert bamako.get("en").number(1234567.5) == "1,234,567.5"


def test_a_language_without_cldr_data_falls_back_to_french_formats(tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    catalogs = Catalogs(ZoneInfo("Africa/Bamako"), languages=("fr", "xyz"), locales_dir=tmp_path)
    t = catalogs.get("xyz")
    assert t.language == "xyz"
    assert str(t.locale) == "fr"
    assert t.number(4532) == "4\u202f532"
    assert t._("Bonjour {name}", name="Awa") == "Bonjour Awa"  # no catalog yet: the French text


def test_no_message_is_hidden_inside_an_f_string() -> None:
    """pybabel (on Python 3.11) does not look inside f-strings: `f"{t._('Texte')}"` is never
    extracted, so it would stay French for everyone. Give the message a name first."""
    import re

    hidden = re.compile(r"\{[\w.]*\b_\(\s*['\"]")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("bot", "handlers", "storage")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if hidden.search(line)
    ]
    assert found == []

"""Translations and locale formats.

The `.po` catalogs are compiled in memory at start-up with Babel, so there are no `.mo` files to
forget to rebuild. French is the reference language: message ids in the code are French, and an
empty French entry means "same as the id". A language without CLDR data (dates, numbers) falls
back to French formats, the network's working language.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

DOMAIN = "kibaru"
REFERENCE_LANGUAGE = "fr"
#: Order in which languages are offered to users.
SHIPPED_LANGUAGES: tuple[str, ...] = ("fr", "bm", "en")
#: Each language in its own name: a user must recognise theirs without reading any other.
LANGUAGE_NAMES: dict[str, str] = {"fr": "Français", "bm": "Bamanankan", "en": "English"}
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"

_PLACEHOLDER_RE = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (tables built at import)."""
    return message


def placeholders(text: str) -> set[str]:
    """Names of the `{name}` placeholders in a message, for catalog consistency checks."""
    return set(_PLACEHOLDER_RE.findall(text))


def _babel_locale(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(REFERENCE_LANGUAGE)


#: compiled catalogs by (file, its modification time and size, reference): a process that
#: opens Kibaru many times (the tests: one database each) parses each `.po` file once
_COMPILED: dict[tuple[Path, int, int, bool], gettext.GNUTranslations] = {}


def _compile(po_path: Path, reference: bool) -> gettext.GNUTranslations:
    stat = po_path.stat()
    key = (po_path.resolve(), stat.st_mtime_ns, stat.st_size, reference)
    if key not in _COMPILED:
        _COMPILED[key] = _parse(po_path, reference)
    return _COMPILED[key]


def _parse(po_path: Path, reference: bool) -> gettext.GNUTranslations:
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=po_path.parent.parent.name, domain=DOMAIN)
    if reference:
        for message in catalog:
            if message.id and not message.string:
                message.string = message.id
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@dataclass(frozen=True)
class Translator:
    """Everything a flow needs to speak one user's language."""

    language: str
    translations: gettext.NullTranslations
    locale: Locale
    timezone: dt.tzinfo

    def _(self, message: str, **values: object) -> str:
        text = self.translations.gettext(message)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        text = self.translations.ngettext(singular, plural, n)
        return text.format(n=self.number(n), **values)

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)

    def datetime(self, moment: dt.datetime, style: str = "medium") -> str:
        return format_datetime(moment, style, tzinfo=self.timezone, locale=self.locale)

    def date(self, day: dt.date | dt.datetime, style: str = "long") -> str:
        if isinstance(day, dt.datetime):
            day = day.astimezone(self.timezone).date()
        return format_date(day, style, locale=self.locale)

    def time(self, moment: dt.datetime, style: str = "short") -> str:
        return format_time(moment, style, tzinfo=self.timezone, locale=self.locale)


class Catalogs:
    """All shipped catalogs, loaded once per process."""

    def __init__(
        self,
        timezone: dt.tzinfo,
        languages: Iterable[str] = SHIPPED_LANGUAGES,
        locales_dir: Path = LOCALES_DIR,
    ) -> None:
        self.languages = tuple(languages)
        self._translators: dict[str, Translator] = {}
        for language in self.languages:
            po_path = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
            translations: gettext.NullTranslations
            if po_path.is_file():
                translations = _compile(po_path, reference=language == REFERENCE_LANGUAGE)
            else:
                translations = gettext.NullTranslations()
            self._translators[language] = Translator(
                language, translations, _babel_locale(language), timezone
            )

    def get(self, language: str | None) -> Translator:
        """The translator for a language, French when unknown (never an error for a user)."""
        if language and language in self._translators:
            return self._translators[language]
        return self._translators.get(REFERENCE_LANGUAGE) or next(iter(self._translators.values()))

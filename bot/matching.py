"""Matching what a user typed against the options of a question.

People type "2", "Bambara", "bamanankan", "FRANCAIS" or "oui" on phones without accents; all
of them should work, as long as only one option fits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.flow import Option

_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)
#: Bambara letters typed on keyboards that lack them: "segin ko" must match "segin kɔ".
_PLAIN_LETTERS = str.maketrans({"ɛ": "e", "ɔ": "o", "ɲ": "ny", "ŋ": "ng"})


def normalize(text: str) -> str:
    """Lower case, no accents or special letters, no emoji or punctuation, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_PLAIN_LETTERS))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", stripped).split())


def match_option(text: str, options: Sequence[Option]) -> str | None:
    """The key of the option the text designates, or None when none or several fit."""
    typed = normalize(text)
    if not typed:
        return None
    if typed.isdigit():
        index = int(typed)
        return options[index - 1].key if 1 <= index <= len(options) else None
    exact = [o.key for o in options if typed in _names(o)]
    if len(exact) == 1:
        return exact[0]
    if len(typed) >= 3:
        prefixed = {o.key for o in options for name in _names(o) if name.startswith(typed)}
        if len(prefixed) == 1:
            return prefixed.pop()
    return None


def _names(option: Option) -> set[str]:
    return {normalize(option.label), normalize(option.key), *map(normalize, option.aliases)}

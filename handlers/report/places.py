"""Mali's places for the "Where" step: regions, cercles, Bamako's communes, and Mali's box.

A reporter who does not (or cannot) share a location pin picks a region, then a cercle — or, in
the District of Bamako, one of its six communes. Codes are what reports store, so they are
ASCII, snake_case and never change; names are proper nouns, shown as written in Mali and never
translated.

The organisation is the one of the laws of 13 March 2023 (loi n° 2023-006 creating the
circonscriptions administratives, loi n° 2023-007 the collectivités territoriales): the District
of Bamako, 19 regions, 159 cercles. Regions come in the national order: Bamako first (code 00),
then the eight historical regions (Kayes … Kidal), then the eleven created in 2012 and made
effective in 2016 (Taoudénit, Ménaka) and 2023 (Nioro du Sahel … Bandiagara).

Sources for the cercle lists (no official consolidated list of the 2023 cercles was found
online, so each list was cross-checked between sources; the counts below add up to 159):

- per-region cercle counts: maliweb.net, "Organisation administrative du territoire malien :
  19 régions, un District, 156 cercles, 807 communes…" (Kayes 10, Koulikoro 8, Sikasso 8,
  Ségou 11, Mopti 8, Tombouctou 13, Gao 16, Kidal 9, Taoudénit 6, …) and maliactu.net,
  "Nouvelle carte administrative du Mali" (Sept. 2024: 159 cercles; Nara, Dioïla, Douentza,
  Taoudénit, Ménaka 6 each; Kidal and Bandiagara 9 each);
- names: the regions' pages of the government portal fuga.gouv.ml (e.g. /region/sikasso,
  /region/bougouni), the French Wikipedia articles "Région de …" updated for the 2023 laws
  (e.g. Région de Koulikoro, Région de Nioro du Sahel, Région de Gao), and two independent
  open-source datasets of the 2023 cercles that agree with each other on all 159 cercles,
  spellings aside.

Where the sources disagree or are thin, the region carries a comment saying so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.matching import normalize


class Precision(StrEnum):
    """How precisely a report is placed, stored with it as ACLED does (its `geo_precision`)."""

    EXACT_PIN = "exact_pin"
    LOCALITY = "locality"
    CERCLE_OR_COMMUNE = "cercle_or_commune"
    REGION = "region"

    @property
    def acled(self) -> int:
        """ACLED's geo-precision code: 1 the place itself, 2 its district, 3 its province."""
        return _ACLED_PRECISION[self]


_ACLED_PRECISION: dict[Precision, int] = {
    Precision.EXACT_PIN: 1,
    Precision.LOCALITY: 1,
    Precision.CERCLE_OR_COMMUNE: 2,
    Precision.REGION: 3,
}

#: Mali's bounding box (min_lat, min_lon, max_lat, max_lon), rounded outwards a little: enough
#: to question a pin dropped in Dakar or Abidjan, not a border test (Ouagadougou and Niamey are
#: inside it).
MALI_BBOX: tuple[float, float, float, float] = (10.1, -12.3, 25.1, 4.3)


def in_mali(lat: float, lon: float) -> bool:
    """Whether a point falls in Mali's bounding box (a pin outside is confirmed before use)."""
    min_lat, min_lon, max_lat, max_lon = MALI_BBOX
    return min_lat <= lat <= max_lat and min_lon <= lon <= max_lon


@dataclass(frozen=True)
class Cercle:
    """A cercle, or one of the District of Bamako's communes (they play the cercles' part)."""

    code: str
    name: str


@dataclass(frozen=True)
class Region:
    """A region, or the District of Bamako (`is_district`), with its cercles or communes."""

    code: str
    name: str
    cercles: tuple[Cercle, ...]
    is_district: bool


def _slug(name: str) -> str:
    """ASCII snake_case from a place name: "Diangounté Camara" → "diangounte_camara"."""
    return normalize(name).replace(" ", "_")


def _region(code: str, name: str, cercles: Iterable[str]) -> Region:
    # A cercle's code starts with its region's, so codes are unique across the whole table and
    # a stored cercle code says which region it belongs to.
    return Region(
        code,
        name,
        tuple(Cercle(f"{code}_{_slug(c)}", c) for c in cercles),
        is_district=False,
    )


_ROMAN = ("I", "II", "III", "IV", "V", "VI")

BAMAKO = Region(
    "bamako",
    "Bamako",
    tuple(Cercle(f"bamako_c{n}", f"Commune {roman}") for n, roman in enumerate(_ROMAN, 1)),
    is_district=True,
)

REGIONS: tuple[Region, ...] = (
    BAMAKO,
    _region(
        "kayes",
        "Kayes",
        (
            "Kayes",
            "Ambidédi",
            "Aourou",
            "Bafoulabé",
            "Diamou",
            "Kéniéba",
            "Oussoubidiagna",
            "Sadiola",
            "Ségala",
            "Yélimané",
        ),
    ),
    _region(
        "koulikoro",
        "Koulikoro",
        ("Koulikoro", "Banamba", "Kangaba", "Kati", "Kolokani", "Néguéla", "Nyamina", "Siby"),
    ),
    _region(
        "sikasso",
        "Sikasso",
        (
            "Sikasso",
            "Dandérésso",
            "Kadiolo",
            "Kignan",
            "Kléla",
            "Lobougoula",
            "Loulouni",
            "Niéna",
        ),
    ),
    _region(
        "segou",
        "Ségou",
        (
            "Ségou",
            "Barouéli",
            "Bla",
            "Dioro",
            "Farako",
            "Macina",
            "Markala",
            "Nampala",
            "Niono",
            "Sarro",
            "Sokolo",
        ),
    ),
    # Mopti: one open dataset omits Toguéré-Coumbé (7 cercles); the published count is 8.
    _region(
        "mopti",
        "Mopti",
        (
            "Mopti",
            "Djenné",
            "Konna",
            "Korientzé",
            "Sofara",
            "Ténenkou",
            "Toguéré-Coumbé",
            "Youwarou",
        ),
    ),
    _region(
        "tombouctou",
        "Tombouctou",
        (
            "Tombouctou",
            "Bambara-Maoudé",
            "Ber",
            "Bintagoungou",
            "Diré",
            "Gargando",
            "Gossi",
            "Goundam",
            "Gourma-Rharous",
            "Léré",
            "Niafunké",
            "Saraféré",
            "Tonka",
        ),
    ),
    # Gao: UNSURE. maliweb gives 16 cercles (this list), maliactu (2024) says 17; the sources
    # disagree on spellings (Soni Aliber / Sony Aliber, Tin-Aouker / Tin-Aoukère, Ersane).
    _region(
        "gao",
        "Gao",
        (
            "Gao",
            "Almoustrat",
            "Ansongo",
            "Bamba",
            "Bourem",
            "Djebock",
            "Ersane",
            "Gabéro",
            "Kassambéré",
            "N'Tillit",
            "Ouattagouna",
            "Soni Aliber",
            "Tabankort",
            "Talataye",
            "Tessit",
            "Tin-Aouker",
        ),
    ),
    # Kidal: the count (9) is sure, several names are not: Anéfif is also written Anétif,
    # Achibogho and Takalote have variant spellings; check with the focal points.
    _region(
        "kidal",
        "Kidal",
        (
            "Kidal",
            "Abeïbara",
            "Achibogho",
            "Aguel-Hoc",
            "Anéfif",
            "Takalote",
            "Tessalit",
            "Timétrine",
            "Tin-Essako",
        ),
    ),
    # Taoudénit: the cercle of the chef-lieu is spelled Taoudenni; Bou-Djébéha is also written
    # Boujbeha or Boudje-Béha.
    _region(
        "taoudenit",
        "Taoudénit",
        ("Taoudenni", "Achouratt", "Al-Ourche", "Araouane", "Bou-Djébéha", "Foum-Elba"),
    ),
    # Ménaka: UNSURE of Anouzagrène and Inlamawane (also "Fanfi"), named by the datasets only;
    # before 2023 the region had four cercles (Ménaka, Andéramboukane, Inékar, Tidermène).
    _region(
        "menaka",
        "Ménaka",
        ("Ménaka", "Andéramboukane", "Anouzagrène", "Inékar", "Inlamawane", "Tidermène"),
    ),
    # Nioro du Sahel: carved from Kayes (the old cercles of Nioro and Diéma).
    _region(
        "nioro_du_sahel",
        "Nioro du Sahel",
        ("Nioro du Sahel", "Béma", "Diangounté Camara", "Diéma", "Sandaré", "Troungoumbé"),
    ),
    # Kita: carved from Kayes (the old cercle of Kita). A February 2023 article listed five
    # cercles without Sirakoro; both datasets have six.
    _region(
        "kita",
        "Kita",
        ("Kita", "Sagabari", "Sébékoro", "Séféto", "Sirakoro", "Toukoto"),
    ),
    # Dioïla: carved from Koulikoro (the old cercle of Dioïla).
    _region(
        "dioila",
        "Dioïla",
        ("Dioïla", "Banco", "Béléko", "Fana", "Massigui", "Ména"),
    ),
    # Nara: carved from Koulikoro (the old cercle of Nara).
    _region(
        "nara",
        "Nara",
        ("Nara", "Ballé", "Dilly", "Fallou", "Guiré", "Mourdiah"),
    ),
    # Bougouni: carved from Sikasso (old cercles of Bougouni, Kolondiéba, Yanfolila) plus
    # Ouéléssébougou from Kati. UNSURE of the count: fuga.gouv.ml lists these 10, maliactu
    # (2024) says 11; one source spells Kadiana "Kadiala".
    _region(
        "bougouni",
        "Bougouni",
        (
            "Bougouni",
            "Dogo",
            "Fakola",
            "Garalo",
            "Kadiana",
            "Kolondiéba",
            "Koumantou",
            "Ouéléssébougou",
            "Sélingué",
            "Yanfolila",
        ),
    ),
    # Koutiala: carved from Sikasso (old cercles of Koutiala and Yorosso). Count not confirmed
    # by a published figure; both datasets agree on these 8.
    _region(
        "koutiala",
        "Koutiala",
        (
            "Koutiala",
            "Konséguéla",
            "Kouniana",
            "Koury",
            "M'Pessoba",
            "Molobala",
            "Yorosso",
            "Zangasso",
        ),
    ),
    # San: carved from Ségou (old cercles of San and Tominian). Count not confirmed by a
    # published figure; both datasets agree on these 7.
    _region(
        "san",
        "San",
        ("San", "Fangasso", "Kimparana", "Mandiakuy", "Sy", "Tominian", "Yangasso"),
    ),
    # Douentza: carved from Mopti (old cercle of Douentza).
    _region(
        "douentza",
        "Douentza",
        ("Douentza", "Boni", "Boré", "Hombori", "Mondoro", "N'Gouma"),
    ),
    # Bandiagara: carved from Mopti (old cercles of Bandiagara, Bankass, Koro). Diallassagou is
    # also written Dialassagou.
    _region(
        "bandiagara",
        "Bandiagara",
        (
            "Bandiagara",
            "Bankass",
            "Diallassagou",
            "Kani",
            "Kendié",
            "Koro",
            "Ningari",
            "Sangha",
            "Sokoura",
        ),
    ),
)

#: Other names people type for a region (English exonyms, short forms, older spellings).
REGION_ALIASES: Mapping[str, tuple[str, ...]] = {
    "bamako": ("district de bamako", "bko"),
    "tombouctou": ("timbuktu", "tumbuktu"),
    "taoudenit": ("taoudeni", "taoudenni"),
    "nioro_du_sahel": ("nioro",),
    "bandiagara": ("bandjagara", "badiangara"),
    # Bambara spellings
    "segou": ("segu",),
    "kayes": ("kayi",),
    "sikasso": ("sikaso",),
    "koulikoro": ("kulikoro",),
}

_REGIONS_BY_CODE: dict[str, Region] = {r.code: r for r in REGIONS}
_CERCLES_BY_CODE: dict[str, tuple[Region, Cercle]] = {
    c.code: (r, c) for r in REGIONS for c in r.cercles
}


def region(code: str) -> Region | None:
    """The region (or the District) with this code, or None for a code no longer known."""
    return _REGIONS_BY_CODE.get(code)


def cercle(code: str) -> tuple[Region, Cercle] | None:
    """The cercle (or Bamako commune) with this code and its region, or None when unknown."""
    return _CERCLES_BY_CODE.get(code)


# Words people put before a place name: "région de Ségou", "cercle d'Ansongo", "à Gao".
_PREFIX = re.compile(
    r"^(?:(?:a|au|en|dans)\s+)?(?:la\s+|le\s+)?"
    r"(?:(?:region|district|cercle|prefecture|ville|village)(?:\s+(?:de|du|d|des))?\s+)?"
)
_COMMUNE_NUMBER = re.compile(r"^(?:commune\s*|c\s*)?(\d|[ivx]+)$")
_ROMAN_VALUE = {roman.lower(): n for n, roman in enumerate(_ROMAN, 1)}


def _strip(typed: str) -> str:
    return _PREFIX.sub("", normalize(typed), count=1)


def _best(typed: str, candidates: Iterable[tuple[str, Iterable[str]]]) -> str | None:
    """The key whose names fit what was typed: an exact name first, else a unique prefix.

    Spaces are ignored ("ntillit" is "N'Tillit", "niorodusahel" is "Nioro du Sahel"), and a
    prefix needs three letters so "ko" does not pick among Koulikoro, Koutiala and Kolokani.
    """
    key = typed.replace(" ", "")
    if not key:
        return None
    names = [(k, {n.replace(" ", "") for n in ns}) for k, ns in candidates]
    exact = [k for k, ns in names if key in ns]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1 or len(key) < 3:
        return None
    prefixed = {k for k, ns in names if any(n.startswith(key) for n in ns)}
    return prefixed.pop() if len(prefixed) == 1 else None


def find_region(typed: str) -> Region | None:
    """The region someone typed ("segou", "Région de Ségou", "TOMBOUCTOU", "timbuktu")."""
    candidates = (
        (r.code, {normalize(r.name), r.code.replace("_", " "), *REGION_ALIASES.get(r.code, ())})
        for r in REGIONS
    )
    found = _best(_strip(typed), candidates)
    return _REGIONS_BY_CODE[found] if found else None


def find_cercle(region: Region, typed: str) -> Cercle | None:
    """The cercle of `region` someone typed; in Bamako, "commune 4", "commune IV", "c4" or "4"."""
    text = _strip(typed)
    if region.is_district:
        number = _COMMUNE_NUMBER.match(text)
        if number:
            value = number.group(1)
            n = int(value) if value.isdigit() else _ROMAN_VALUE.get(value, 0)
            return region.cercles[n - 1] if 1 <= n <= len(region.cercles) else None
    candidates = ((c.code, {normalize(c.name)}) for c in region.cercles)
    found = _best(text, candidates)
    return _CERCLES_BY_CODE[found][1] if found else None

"""The report flow's reference data: incident categories and Mali's places."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from handlers.report import categories, places
from handlers.report.categories import (
    ACLED_EVENT_TYPES,
    ACLED_SUB_EVENT_TYPES,
    CATEGORIES,
    CODES,
    MAX_LABEL_LENGTH,
    SECTORS,
    by_code,
)
from handlers.report.places import (
    MALI_BBOX,
    REGIONS,
    Precision,
    cercle,
    find_cercle,
    find_region,
    in_mali,
    region,
)

SNAKE_CASE = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")

# ── categories ──────────────────────────────────────────────────────────────────────────────


def test_the_seventeen_categories_of_issue_3_in_its_order() -> None:
    assert CODES == (
        "armed_attack",
        "explosive_device",
        "violence_against_civilians",
        "kidnapping",
        "gender_based_violence",
        "intercommunal_conflict",
        "armed_group_presence",
        "crime",
        "trafficking",
        "protest",
        "security_force_abuse",
        "displacement",
        "epidemic",
        "natural_hazard",
        "hate_speech",
        "peace_initiative",
        "other",
    )
    assert len(set(CATEGORIES)) == len(set(CODES)) == 17
    assert all(SNAKE_CASE.fullmatch(code) for code in CODES)


def test_labels_are_short_unique_and_emoji_free() -> None:
    labels = [c.label for c in CATEGORIES]
    assert len(set(labels)) == len(labels)
    for c in CATEGORIES:
        assert 0 < len(c.label) <= MAX_LABEL_LENGTH, c.label
        assert c.label == c.label.strip()
        assert unicodedata.is_normalized("NFC", c.label), c.label
        # the emoji is shown separately, so the label carries none
        assert all(unicodedata.category(ch)[0] in "LNPZ" for ch in c.label), c.label
        assert c.emoji and not any(ch.isalnum() for ch in c.emoji), c.code
    assert len({c.emoji for c in CATEGORIES}) == len(CATEGORIES)


def test_acled_types_and_sub_types_are_real_ones() -> None:
    assert set(ACLED_SUB_EVENT_TYPES) == ACLED_EVENT_TYPES
    for c in CATEGORIES:
        assert c.acled_event_type in ACLED_EVENT_TYPES, c.code
        if c.acled_sub_event_type is not None:
            assert c.acled_sub_event_type in ACLED_SUB_EVENT_TYPES[c.acled_event_type], c.code
    explosive, peace = by_code("explosive_device"), by_code("peace_initiative")
    assert explosive is not None and peace is not None
    assert explosive.acled_sub_event_type == "Remote explosive/landmine/IED"
    assert peace.acled_sub_event_type == "Agreement"


def test_sectors_come_from_the_documented_vocabulary() -> None:
    assert {c.ecowarn_sector for c in CATEGORIES} <= SECTORS
    doc = categories.__doc__ or ""
    for sector in SECTORS:
        assert re.search(rf"^\s+{sector}\s", doc, re.MULTILINE), f"{sector} not documented"


def test_urgent_categories() -> None:
    urgent = {c.code for c in CATEGORIES if c.urgent}
    assert {
        "armed_attack",
        "explosive_device",
        "violence_against_civilians",
        "kidnapping",
        "gender_based_violence",
    } <= urgent
    assert "peace_initiative" not in urgent and "other" not in urgent


def test_by_code() -> None:
    assert by_code("kidnapping") is CATEGORIES[3]
    assert by_code("no_such_code") is None
    assert by_code("") is None
    assert [by_code(code) for code in CODES] == list(CATEGORIES)


def test_every_label_is_extracted_by_babel() -> None:
    """Labels reach the catalogs only if `pybabel extract -k N_` finds them in the module."""
    path = Path(categories.__file__)
    found = {
        message
        for _lineno, message, _comments, _context in extract_from_file(
            "python", str(path), keywords={"N_": None}
        )
    }
    assert {c.label for c in CATEGORIES} <= found


# ── places ──────────────────────────────────────────────────────────────────────────────────

NINETEEN_REGIONS = {
    "Kayes",
    "Koulikoro",
    "Sikasso",
    "Ségou",
    "Mopti",
    "Tombouctou",
    "Gao",
    "Kidal",
    "Taoudénit",
    "Ménaka",
    "Nioro du Sahel",
    "Kita",
    "Dioïla",
    "Nara",
    "Bougouni",
    "Koutiala",
    "San",
    "Douentza",
    "Bandiagara",
}


def test_nineteen_regions_and_the_district_of_bamako() -> None:
    districts = [r for r in REGIONS if r.is_district]
    assert [d.code for d in districts] == ["bamako"]
    assert {r.name for r in REGIONS if not r.is_district} == NINETEEN_REGIONS
    assert len(REGIONS) == 20


def test_bamako_has_its_six_communes() -> None:
    bamako = region("bamako")
    assert bamako is not None and bamako.is_district
    assert [c.name for c in bamako.cercles] == [
        "Commune I",
        "Commune II",
        "Commune III",
        "Commune IV",
        "Commune V",
        "Commune VI",
    ]
    assert [c.code for c in bamako.cercles] == [f"bamako_c{n}" for n in range(1, 7)]


def test_every_region_has_cercles_and_159_in_all() -> None:
    for r in REGIONS:
        assert r.cercles, r.code
    assert sum(len(r.cercles) for r in REGIONS if not r.is_district) == 159


def test_codes_are_unique_stable_ascii_snake_case() -> None:
    codes = [r.code for r in REGIONS] + [c.code for r in REGIONS for c in r.cercles]
    assert len(codes) == len(set(codes))
    assert all(SNAKE_CASE.fullmatch(code) for code in codes)
    for r in REGIONS:
        assert all(c.code.startswith(f"{r.code}_") for c in r.cercles), r.code
        names = [c.name for c in r.cercles]
        assert len(names) == len(set(names)), r.code
    assert {r.code for r in REGIONS} >= {"segou", "tombouctou", "nioro_du_sahel", "bamako"}
    assert cercle("segou_markala") is not None


def test_names_are_clean_proper_nouns() -> None:
    for r in REGIONS:
        for name in (r.name, *(c.name for c in r.cercles)):
            assert name == name.strip() and "  " not in name
            assert unicodedata.is_normalized("NFC", name), name


def test_lookup_by_code() -> None:
    gao = region("gao")
    assert gao is not None and gao.name == "Gao" and not gao.is_district
    assert region("atlantis") is None
    found = cercle("bamako_c4")
    assert found is not None
    assert found[0].code == "bamako" and found[1].name == "Commune IV"
    for r in REGIONS:
        for c in r.cercles:
            assert cercle(c.code) == (r, c)
    assert cercle("gao") is None


def test_precision_mirrors_acled() -> None:
    assert [p.value for p in Precision] == ["exact_pin", "locality", "cercle_or_commune", "region"]
    assert [p.acled for p in Precision] == [1, 1, 2, 3]
    assert Precision("region") is Precision.REGION
    assert Precision.CERCLE_OR_COMMUNE == "cercle_or_commune"


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(12.64, -8.0), (16.27, -0.04), (18.44, 1.41), (16.77, -3.01), (24.0, -4.0)],
    ids=["Bamako", "Gao", "Kidal", "Tombouctou", "far north"],
)
def test_points_in_mali(lat: float, lon: float) -> None:
    assert in_mali(lat, lon)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(14.7, -17.4), (36.7, 3.0), (5.3, -4.0), (48.86, 2.35), (-12.64, 8.0), (12.64, 8.0)],
    ids=["Dakar", "Algiers", "Abidjan", "Paris", "signs swapped", "lon sign lost"],
)
def test_points_outside_the_box(lat: float, lon: float) -> None:
    assert not in_mali(lat, lon)


def test_box_edges_are_inside() -> None:
    min_lat, min_lon, max_lat, max_lon = MALI_BBOX
    assert in_mali(min_lat, min_lon) and in_mali(max_lat, max_lon)
    assert not in_mali(float("nan"), -8.0)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("segou", "segou"),
        ("Ségou", "segou"),
        ("SEGOU", "segou"),
        ("region de segou", "segou"),
        ("Région de Ségou", "segou"),
        ("TOMBOUCTOU", "tombouctou"),
        ("tombouctou", "tombouctou"),
        ("Timbuktu", "tombouctou"),
        ("nioro du sahel", "nioro_du_sahel"),
        ("Nioro", "nioro_du_sahel"),
        ("dioila", "dioila"),
        ("Ménaka", "menaka"),
        ("taoudeni", "taoudenit"),
        ("district de Bamako", "bamako"),
        ("bamako", "bamako"),
        ("  Bandiagara ! ", "bandiagara"),
        ("sika", "sikasso"),  # unique prefix
    ],
)
def test_find_region(typed: str, code: str) -> None:
    found = find_region(typed)
    assert found is not None and found.code == code


@pytest.mark.parametrize("typed", ["", "   ", "ko", "kou", "Paris", "region de", "commune 4"])
def test_find_region_refuses_unknown_or_ambiguous(typed: str) -> None:
    assert find_region(typed) is None


@pytest.mark.parametrize(
    "typed", ["commune 4", "commune iv", "Commune IV", "COMMUNE 4", "c4", "4", "iv"]
)
def test_find_a_bamako_commune(typed: str) -> None:
    bamako = region("bamako")
    assert bamako is not None
    found = find_cercle(bamako, typed)
    assert found is not None and found.code == "bamako_c4"


@pytest.mark.parametrize("typed", ["commune 7", "commune 0", "commune", "vii", "Kati"])
def test_no_such_bamako_commune(typed: str) -> None:
    bamako = region("bamako")
    assert bamako is not None
    assert find_cercle(bamako, typed) is None


@pytest.mark.parametrize(
    ("region_code", "typed", "cercle_code"),
    [
        ("gao", "ansongo", "gao_ansongo"),
        ("gao", "Cercle d'Ansongo", "gao_ansongo"),
        ("gao", "ntillit", "gao_n_tillit"),
        ("gao", "N'Tillit", "gao_n_tillit"),
        ("segou", "cercle de markala", "segou_markala"),
        ("segou", "SEGOU", "segou_segou"),
        ("mopti", "djenne", "mopti_djenne"),
        ("tombouctou", "gourma rharous", "tombouctou_gourma_rharous"),
        ("nioro_du_sahel", "diangounte", "nioro_du_sahel_diangounte_camara"),
    ],
)
def test_find_cercle(region_code: str, typed: str, cercle_code: str) -> None:
    r = region(region_code)
    assert r is not None
    found = find_cercle(r, typed)
    assert found is not None and found.code == cercle_code


def test_find_cercle_stays_in_its_region() -> None:
    gao, segou = region("gao"), region("segou")
    assert gao is not None and segou is not None
    assert find_cercle(gao, "markala") is None
    assert find_cercle(segou, "ansongo") is None
    assert find_cercle(segou, "") is None


def test_every_name_typed_as_written_finds_itself() -> None:
    for r in REGIONS:
        assert find_region(r.name) == r
        assert find_region(r.code.replace("_", " ")) == r
        for c in r.cercles:
            assert find_cercle(r, c.name) == c, c.code


def test_module_docstring_cites_sources() -> None:
    doc = places.__doc__ or ""
    assert "2023-006" in doc and "fuga.gouv.ml" in doc

"""How member types, sexes and age groups are named to people (French source, translated)."""

from __future__ import annotations

from bot.i18n import N_, Translator
from storage.committees import MemberType

MEMBER_TYPES: dict[MemberType, str] = {
    MemberType.FSI: N_("🛡️ Forces de défense et de sécurité (FDS/FSI)"),
    MemberType.LOCAL_AUTHORITY: N_("🏛️ Autorité locale"),
    MemberType.CIVIL_SOCIETY: N_("🤝 Société civile"),
    MemberType.WOMEN: N_("👩 Représentante des femmes"),
    MemberType.YOUTH: N_("🧑 Représentant·e des jeunes"),
    MemberType.TRADITIONAL_RELIGIOUS: N_("🕌 Autorité traditionnelle ou religieuse"),
    MemberType.OTHER: N_("➕ Autre"),
}
#: words people may type for a type, in any language
MEMBER_TYPE_WORDS: dict[MemberType, tuple[str, ...]] = {
    MemberType.FSI: ("fsi", "fds", "police", "gendarmerie"),
    MemberType.LOCAL_AUTHORITY: ("mairie", "maire", "autorite"),
    MemberType.CIVIL_SOCIETY: ("societe civile", "civil society"),
    MemberType.WOMEN: ("femmes", "women", "musow"),
    MemberType.YOUTH: ("jeunes", "youth", "kamalenw"),
    MemberType.TRADITIONAL_RELIGIOUS: ("chef", "imam", "religieux"),
    MemberType.OTHER: ("autre", "other"),
}
SEXES: dict[str, str] = {"female": N_("👩 Femme"), "male": N_("👨 Homme")}
SEX_WORDS: dict[str, tuple[str, ...]] = {
    "female": ("f", "femme", "woman", "muso"),
    "male": ("h", "m", "homme", "man", "ce"),
}
AGE_GROUPS: dict[str, str] = {
    "under_18": N_("Moins de 18 ans"),
    "18_24": N_("18 à 24 ans"),
    "25_35": N_("25 à 35 ans"),
    "over_35": N_("Plus de 35 ans"),
}


def member_type_label(t: Translator, member_type: MemberType) -> str:
    return t._(MEMBER_TYPES[member_type])

"""The incident categories a reporter picks from, and what analysts' tools make of them.

The list is issue 3's, in its order. A category's `code` is what the database and every export
store, so codes never change once shipped; labels may be reworded (they are gettext message
ids, so rewording one means refreshing the catalogs with `sh locales/update.sh`).

Each category carries, for the analysts:

- an ACLED-like event type and, where one fits, sub-event type, so exports line up with the
  ACLED codebook (event types: "Battles", "Explosions/Remote violence", "Violence against
  civilians", "Protests", "Riots", "Strategic developments"). A reporter's category is a first
  guess: the analyst who validates a report may recode it. Events ACLED does not record
  (epidemics, floods, displacement, trafficking...) go to "Strategic developments" / "Other",
  the codebook's place for context that is not political violence.
- an ECOWARN-style sector, from this fixed vocabulary (`SECTORS`):

  ==============  ============================================================================
  security        armed violence and its threats: attacks, explosives, kidnappings, armed
                  groups, violent community clashes
  human_rights    abuses of people's rights: gender-based violence, abuses by security forces
                  and arbitrary arrests
  governance      political life and the state: protests, political tension
  crime           ordinary crime and illicit economies: robbery, road bandits, cattle theft,
                  trafficking
  humanitarian    consequences for people: forced displacement
  health          epidemics and other public-health threats
  environment     natural hazards: flood, drought, bush fire and other climate shocks
  peace           social cohesion and peacebuilding: peace initiatives, and the hate speech,
                  rumours and disinformation that erode cohesion
  other           not classified by the reporter; the analyst decides
  ==============  ============================================================================

- `urgent`: the report must be looked at by a validator within 30 minutes, because lives may
  be at stake right now or the harm may still be prevented: armed attack, explosive device,
  violence against civilians, kidnapping (the first hours matter for finding the victim),
  gender-based violence (the survivor may need care within 72 hours) and armed group presence
  (armed men seen moving towards a village are the early warning the network exists for).
  Everything else is reviewed in the normal queue.

Labels are short French button texts (at most 22 characters; the emoji is shown before the
label, separately) wrapped in `N_()` so Babel extracts them; translate them at display time
with `t._(category.label)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_

#: The ACLED event types (ACLED codebook, 2019 onwards).
ACLED_EVENT_TYPES: frozenset[str] = frozenset(
    {
        "Battles",
        "Explosions/Remote violence",
        "Violence against civilians",
        "Protests",
        "Riots",
        "Strategic developments",
    }
)

#: ACLED sub-event types by event type (ACLED codebook), to check a mapping is a real one.
ACLED_SUB_EVENT_TYPES: dict[str, frozenset[str]] = {
    "Battles": frozenset(
        {"Armed clash", "Government regains territory", "Non-state actor overtakes territory"}
    ),
    "Explosions/Remote violence": frozenset(
        {
            "Chemical weapon",
            "Air/drone strike",
            "Suicide bomb",
            "Shelling/artillery/missile attack",
            "Remote explosive/landmine/IED",
            "Grenade",
        }
    ),
    "Violence against civilians": frozenset(
        {"Sexual violence", "Attack", "Abduction/forced disappearance"}
    ),
    "Protests": frozenset(
        {"Peaceful protest", "Protest with intervention", "Excessive force against protesters"}
    ),
    "Riots": frozenset({"Violent demonstration", "Mob violence"}),
    "Strategic developments": frozenset(
        {
            "Agreement",
            "Arrests",
            "Change to group/activity",
            "Disrupted weapons use",
            "Headquarters or base established",
            "Looting/property destruction",
            "Non-violent transfer of territory",
            "Other",
        }
    ),
}

#: The ECOWARN-style sectors (see the module docstring for what each one covers).
SECTORS: frozenset[str] = frozenset(
    {
        "security",
        "human_rights",
        "governance",
        "crime",
        "humanitarian",
        "health",
        "environment",
        "peace",
        "other",
    }
)

#: Longest label that fits a button two per row on a small phone, emoji aside.
MAX_LABEL_LENGTH = 22


@dataclass(frozen=True)
class Category:
    """One kind of incident: its stable code, its button, and its place in analysts' typologies."""

    code: str
    emoji: str
    #: French message id (translate with `t._(label)` before showing it)
    label: str
    acled_event_type: str
    acled_sub_event_type: str | None
    ecowarn_sector: str
    #: reviewed within 30 minutes rather than in the normal queue
    urgent: bool


CATEGORIES: tuple[Category, ...] = (
    Category(
        "armed_attack",
        "🔫",
        N_("Attaque armée"),
        "Battles",
        "Armed clash",
        "security",
        urgent=True,
    ),
    Category(
        "explosive_device",
        "💣",
        N_("Engin explosif"),
        "Explosions/Remote violence",
        "Remote explosive/landmine/IED",
        "security",
        urgent=True,
    ),
    Category(
        "violence_against_civilians",
        "🩸",
        N_("Violence sur civils"),
        "Violence against civilians",
        "Attack",
        "security",
        urgent=True,
    ),
    Category(
        "kidnapping",
        "⛓️",
        N_("Enlèvement"),
        "Violence against civilians",
        "Abduction/forced disappearance",
        "security",
        urgent=True,
    ),
    Category(
        "gender_based_violence",
        "🚺",
        N_("Violence de genre"),
        "Violence against civilians",
        "Sexual violence",
        "human_rights",
        urgent=True,
    ),
    # Intercommunal or land conflict, farmer–herder clashes included ("conflit communautaire"
    # is how Malian French names all of them). ACLED codes unarmed community clashes as mob
    # violence; the analyst recodes to "Battles" when organised militias fight.
    Category(
        "intercommunal_conflict",
        "⚔️",
        N_("Conflit communautaire"),
        "Riots",
        "Mob violence",
        "security",
        urgent=False,
    ),
    # Presence, threats or recruitment by an armed group: context that may announce violence.
    Category(
        "armed_group_presence",
        "👁️",
        N_("Groupe armé signalé"),
        "Strategic developments",
        "Other",
        "security",
        urgent=True,
    ),
    # Robbery, road bandits, cattle theft.
    Category(
        "crime",
        "💰",
        N_("Vol / banditisme"),
        "Strategic developments",
        "Looting/property destruction",
        "crime",
        urgent=False,
    ),
    Category(
        "trafficking",
        "📦",
        N_("Trafic illicite"),
        "Strategic developments",
        "Other",
        "crime",
        urgent=False,
    ),
    # Protest or political tension.
    Category(
        "protest",
        "📢",
        N_("Manifestation, tension"),
        "Protests",
        "Peaceful protest",
        "governance",
        urgent=False,
    ),
    # Abuses by security forces or arbitrary arrests: no single sub-event fits both (an abuse
    # is an "Attack", an arrest is "Strategic developments"/"Arrests"), so the analyst picks.
    Category(
        "security_force_abuse",
        "🚔",
        N_("Abus forces de l'ordre"),
        "Violence against civilians",
        None,
        "human_rights",
        urgent=False,
    ),
    Category(
        "displacement",
        "🏃",
        N_("Déplacement forcé"),
        "Strategic developments",
        "Other",
        "humanitarian",
        urgent=False,
    ),
    Category(
        "epidemic",
        "🦠",
        N_("Épidémie"),
        "Strategic developments",
        "Other",
        "health",
        urgent=False,
    ),
    # Flood, drought, bush fire and other climate shocks.
    Category(
        "natural_hazard",
        "🌊",
        N_("Catastrophe naturelle"),
        "Strategic developments",
        "Other",
        "environment",
        urgent=False,
    ),
    # Hate speech, rumour, disinformation ("intox" is the everyday Malian French word for it).
    Category(
        "hate_speech",
        "🗣️",
        N_("Haine, rumeur, intox"),
        "Strategic developments",
        "Other",
        "peace",
        urgent=False,
    ),
    # A positive signal: dialogue, reconciliation, a local agreement.
    Category(
        "peace_initiative",
        "🕊️",
        N_("Initiative de paix"),
        "Strategic developments",
        "Agreement",
        "peace",
        urgent=False,
    ),
    Category(
        "other",
        "❓",
        N_("Autre"),
        "Strategic developments",
        "Other",
        "other",
        urgent=False,
    ),
)

#: Every category code, in display order.
CODES: tuple[str, ...] = tuple(c.code for c in CATEGORIES)

_BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}


def by_code(code: str) -> Category | None:
    """The category with this code, or None: a stored code from an older version never crashes."""
    return _BY_CODE.get(code)

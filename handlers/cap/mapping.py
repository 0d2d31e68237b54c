"""Kibaru's vocabulary in CAP 1.2's: categories, severities, and how large an area to announce.

**Categories.** CAP's `category` is about who deals with the event: Security is "law
enforcement, military, homeland and local/private security", Safety "general emergency and
public safety", Rescue "rescue and recovery", Health "medical and public health", Met
"meteorological (inc. flood)". Each Kibaru category maps to one:

=============================  =========  ===================================================
armed attack, explosive        Security   armed violence and its threats, crime and
device, violence against                  trafficking, abuses by security forces: matters for
civilians, kidnapping,                    the security forces
intercommunal conflict, armed
group, crime, trafficking,
security force abuse
gender-based violence          Safety     the survivor needs care and protection, not policing
protest, hate speech/rumour    Safety     public order and social cohesion
displacement                   Rescue     people to shelter and assist
epidemic                       Health
natural hazard                 Met        floods and droughts are CAP's "Met"; the reporter
                                          does not say when it was a bush fire
peace initiative, other        Other
=============================  =========  ===================================================

A code this table does not know (a category of a later version) is "Other".

**Severities.** The network's scale says how strongly and how soon people should act; CAP
splits that into urgency (when to act), severity (how bad) and certainty (how sure). Every
alert was validated by an analyst, so it is at least "Likely"; "urgence" means the danger is
there now, so "Observed":

=================  ==========  ==========  ==========
Kibaru             urgency     severity    certainty
=================  ==========  ==========  ==========
1 information      Future      Minor       Likely
2 vigilance        Future      Moderate    Likely
3 alerte           Expected    Severe      Likely
4 urgence          Immediate   Extreme     Observed
=================  ==========  ==========  ==========

**Area.** A report placed by a pin is announced as a circle around the pin rounded to 0.01°
(about 1 km), 2 km wide at least: enough for partners to place it, not enough to point at a
house, which could be the reporter's. Larger precisions get larger circles.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.report.places import Precision

#: Kibaru category code -> CAP category
CATEGORY: dict[str, str] = {
    "armed_attack": "Security",
    "explosive_device": "Security",
    "violence_against_civilians": "Security",
    "kidnapping": "Security",
    "gender_based_violence": "Safety",
    "intercommunal_conflict": "Security",
    "armed_group_presence": "Security",
    "crime": "Security",
    "trafficking": "Security",
    "protest": "Safety",
    "security_force_abuse": "Security",
    "displacement": "Rescue",
    "epidemic": "Health",
    "natural_hazard": "Met",
    "hate_speech": "Safety",
    "peace_initiative": "Other",
    "other": "Other",
}


def cap_category(code: str) -> str:
    return CATEGORY.get(code, "Other")


@dataclass(frozen=True)
class Gravity:
    urgency: str
    severity: str
    certainty: str


#: Kibaru severity (1 information .. 4 urgence) -> CAP urgency, severity, certainty
GRAVITY: dict[int, Gravity] = {
    1: Gravity("Future", "Minor", "Likely"),
    2: Gravity("Future", "Moderate", "Likely"),
    3: Gravity("Expected", "Severe", "Likely"),
    4: Gravity("Immediate", "Extreme", "Observed"),
}

#: decimals kept of a pin's latitude and longitude (0.01° is about 1.1 km)
PIN_DECIMALS = 2

#: radius in km of the circle announced, by how precisely the report is placed
RADIUS_KM: dict[Precision, float] = {
    Precision.EXACT_PIN: 2,
    Precision.LOCALITY: 10,
    Precision.CERCLE_OR_COMMUNE: 30,
    Precision.REGION: 150,
}


def circle(latitude: float, longitude: float, precision: str) -> str:
    """CAP's circle: "lat,lon radius" in WGS 84 degrees (latitude first) and kilometres."""
    try:
        radius = RADIUS_KM[Precision(precision)]
    except ValueError:
        radius = RADIUS_KM[Precision.REGION]
    lat = round(latitude, PIN_DECIMALS) + 0.0  # + 0.0: no "-0.00"
    lon = round(longitude, PIN_DECIMALS) + 0.0
    return f"{lat:.{PIN_DECIMALS}f},{lon:.{PIN_DECIMALS}f} {radius:g}"

"""Naming what a person follows: an area, a subscription, a focal point's scope.

Codes are the report's own (handlers/report/places.py), so an alert's region and commune match
a subscription without translation; names are proper nouns and stay as written in Mali.
"""

from __future__ import annotations

from datetime import datetime

from bot.i18n import Translator
from handlers.alerts.severity import severity
from handlers.report import places
from storage.subscriptions import DIGEST, AreaKind, Subscription

#: the choice "all Mali" among areas (a place code is never this)
ALL_MALI = "_mali"


def area_name(t: Translator, kind: AreaKind, code: str) -> str:
    if kind is AreaKind.MALI:
        return t._("🇲🇱 Tout le Mali")
    return scope_name(t, code)


def scope_name(t: Translator, code: str | None) -> str:
    """A region, commune or cercle code (None: everywhere) as people say it."""
    if not code:
        return t._("🇲🇱 Tout le Mali")
    region = places.region(code)
    if region is not None:
        if region.is_district:
            return t._("📍 Bamako, toutes les communes")
        return t._("📍 Région de {region}", region=region.name)
    found = places.cercle(code)
    if found is not None:
        region, cercle = found
        return f"📍 {region.name}, {cercle.name}"
    return f"📍 {code}"  # a code from a newer places table: still better than nothing


def hour_text(t: Translator, hour: int) -> str:
    """A digest hour in the user's local format ("18:00", "6:00 PM")."""
    return t.time(datetime(2000, 1, 1, hour, tzinfo=t.timezone))


def delivery_text(t: Translator, delivery: str, hour: int | None) -> str:
    if delivery == DIGEST and hour is not None:
        return t._("🗓️ résumé chaque jour à {hour}", hour=hour_text(t, hour))
    return t._("⚡ tout de suite")


def describe(t: Translator, subscription: Subscription) -> str:
    """One line: where, from which severity, how."""
    level = severity(subscription.min_severity)
    return t._(
        "{area} · {dot} {which} · {how}",
        area=area_name(t, subscription.kind, subscription.code),
        dot=level.emoji,
        which=t._(level.from_here),
        how=delivery_text(t, subscription.delivery, subscription.digest_hour),
    )

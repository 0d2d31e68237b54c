"""The commands users can type, in French and English (both accepted in every language)."""

from __future__ import annotations

from bot.engine import CommandSpec
from bot.i18n import N_

COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("report", {"fr": "signaler", "en": "report"}, N_("Signaler un incident")),
    CommandSpec(
        "myreports", {"fr": "mes_signalements", "en": "myreports"}, N_("Voir mes signalements")
    ),
    CommandSpec("alerts", {"fr": "alertes", "en": "alerts"}, N_("Recevoir les alertes de ma zone")),
    CommandSpec("sessions", {"fr": "sessions", "en": "sessions"}, N_("Sessions du CCS-C")),
    CommandSpec("ccsc", {"fr": "ccsc", "en": "ccsc"}, N_("Rejoindre un comité CCS-C")),
    CommandSpec(
        "checkin", {"fr": "presence", "en": "checkin"}, N_("Noter ma présence à une session")
    ),
    CommandSpec("menu", {"fr": "menu", "en": "menu"}, N_("Menu principal")),
    CommandSpec("language", {"fr": "langue", "en": "language"}, N_("Changer de langue")),
    CommandSpec("back", {"fr": "retour", "en": "back"}, N_("Revenir à la question précédente")),
    CommandSpec("cancel", {"fr": "annuler", "en": "cancel"}, N_("Annuler ce qui est en cours")),
    CommandSpec("forget", {"fr": "effacer", "en": "forget"}, N_("Effacer mes données")),
    CommandSpec("help", {"fr": "aide", "en": "help"}, N_("Aide")),
    CommandSpec("start", {"fr": "start", "en": "start"}, N_("Commencer"), listed=False),
    CommandSpec(
        "pause", {"fr": "stop", "en": "stop"}, N_("Mettre les alertes en pause"), listed=False
    ),
    # The team's commands: not in the public menu (each checks the user's role).
    CommandSpec(
        "pending",
        {"fr": "a_valider", "en": "pending"},
        N_("Signalements à valider"),
        listed=False,
    ),
    CommandSpec(
        "role", {"fr": "role", "en": "role"}, N_("Donner ou retirer un rôle"), listed=False
    ),
    CommandSpec("roles", {"fr": "roles", "en": "roles"}, N_("Voir les rôles"), listed=False),
    CommandSpec("whoami", {"fr": "moi", "en": "whoami"}, N_("Mon identifiant"), listed=False),
    CommandSpec(
        "announce", {"fr": "annonce", "en": "announce"}, N_("Envoyer une annonce"), listed=False
    ),
    CommandSpec(
        "announcements",
        {"fr": "annonces", "en": "announcements"},
        N_("Annonces programmées"),
        listed=False,
    ),
    CommandSpec(
        "members", {"fr": "membres", "en": "members"}, N_("Membres du comité"), listed=False
    ),
    CommandSpec(
        "participation",
        {"fr": "participation", "en": "participation"},
        N_("Chiffres de participation CCS-C"),
        listed=False,
    ),
    CommandSpec(
        "new_committee",
        {"fr": "comite_nouveau", "en": "new_committee"},
        N_("Créer un comité CCS-C"),
        listed=False,
    ),
    CommandSpec(
        "session_new",
        {"fr": "session_nouvelle", "en": "newsession"},
        N_("Créer une session du CCS-C"),
        listed=False,
    ),
    CommandSpec(
        "bulletin",
        {"fr": "bulletin", "en": "bulletin"},
        N_("Rapport d'alerte ou bulletin mensuel"),
        listed=False,
    ),
    CommandSpec("stats", {"fr": "stats", "en": "stats"}, N_("Chiffres clés"), listed=False),
    CommandSpec(
        "export",
        {"fr": "export", "en": "export"},
        N_("Exporter les données (CSV, XLSX, GeoJSON)"),
        listed=False,
    ),
    CommandSpec(
        "diffusion",
        {"fr": "diffusion", "en": "broadcast"},
        N_("Suivre la diffusion d'une alerte"),
        listed=False,
    ),
)


def command_language(language: str) -> str:
    """Which command names a language shows: English for English, French otherwise.

    Bambara speakers in Mali meet French command words everywhere; both always work.
    """
    return "en" if language == "en" else "fr"

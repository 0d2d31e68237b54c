"""The features, channel-neutral: each module is one part of what users can do."""

from __future__ import annotations

from bot.engine import Features
from bot.i18n import Catalogs
from handlers.alerts.flow import ALERTS_FLOW, alerts_flow
from handlers.alerts.stop import PAUSE_FLOW, pause_flow, stop_word
from handlers.bulletins.commands import bulletin, stats
from handlers.ccsc.join import CCSC_FLOW, ccsc_flow
from handlers.ccsc.notify import DECIDE, REMOVE
from handlers.ccsc.participation import participation
from handlers.ccsc.staff import decide_action, list_members, new_committee, remove_action
from handlers.commands import COMMANDS
from handlers.dissemination.announcements import (
    ANNOUNCE_FLOW,
    CANCEL,
    announce_flow,
    cancel_action,
    list_scheduled,
)
from handlers.exports.command import export
from handlers.help import coming_soon, help_text
from handlers.language import LANGUAGE_FLOW, WELCOME_FLOW, language_flow, welcome_flow
from handlers.menu import MENU_FLOW, menu_flow
from handlers.privacy import FORGET_FLOW, forget_flow
from handlers.report.flow import REPORT_FLOW, report_flow
from handlers.report.mine import MY_REPORTS_FLOW, my_reports_flow
from handlers.report.questions_what import (
    Contact,
    Evidence,
    People,
    Phone,
    WhatHappened,
    figure_steps,
)
from handlers.report.questions_when import Category, Day, TimeOfDay, When
from handlers.report.questions_where import (
    CercleChoice,
    Locality,
    PinOutside,
    PlaceDetail,
    RegionChoice,
    Where,
)
from handlers.report.summary import Change, Summary, receipt_again
from handlers.review.actions import answer_action, review_action
from handlers.review.decisions import decision_flows
from handlers.review.details import ANSWER, details_flows
from handlers.review.posting import REVIEW
from handlers.review.queue import QUEUE_FLOW, queue_flow
from handlers.sessions.attendance import MARK, checkin, mark_action, roll_call_action
from handlers.sessions.create import NEW_SESSION_FLOW, new_session_flow
from handlers.sessions.invitations import ROLL_CALL, RSVP
from handlers.sessions.listing import SESSIONS_FLOW, sessions_flow
from handlers.sessions.manage import CANCEL as CANCEL_SESSION
from handlers.sessions.manage import MOVE as MOVE_SESSION
from handlers.sessions.manage import STOP_RULE, move_action, move_flow, stop_rule_action
from handlers.sessions.manage import cancel_action as cancel_session_action
from handlers.sessions.profile import profile_flow
from handlers.sessions.rsvp import rsvp_action
from handlers.staff import broadcast_progress, list_roles, set_role, whoami

#: main-menu entries and their flows; None until the issue that builds them lands
ENTRIES: dict[str, str | None] = {
    "report": REPORT_FLOW,
    "myreports": MY_REPORTS_FLOW,
    "alerts": ALERTS_FLOW,
    "pause": PAUSE_FLOW,
    "sessions": SESSIONS_FLOW,
    "session_new": NEW_SESSION_FLOW,
    "pending": QUEUE_FLOW,
    "announce": ANNOUNCE_FLOW,
    "ccsc": CCSC_FLOW,
}


def build_features(catalogs: Catalogs) -> Features:
    flows = [
        menu_flow(ENTRIES, LANGUAGE_FLOW, help_text, coming_soon),
        welcome_flow(catalogs),
        language_flow(catalogs),
        forget_flow(),
        my_reports_flow(),
        alerts_flow(),
        pause_flow(),
        report_flow(
            [
                Category(),
                When(),
                Day(),
                TimeOfDay(),
                Where(),
                PinOutside(),
                RegionChoice(),
                CercleChoice(),
                Locality(),
                PlaceDetail(),
                WhatHappened(),
                People(),
                *figure_steps(),
                Evidence(),
                Contact(),
                Phone(),
                Summary(),
                Change(),
            ]
        ),
        *decision_flows(),
        *details_flows(),
        queue_flow(),
        announce_flow(),
        ccsc_flow(),
        sessions_flow(),
        profile_flow(),
        new_session_flow(),
        move_flow(),
    ]
    return Features(
        flows={f.name: f for f in flows},
        commands=COMMANDS,
        entries=ENTRIES,
        menu_flow=MENU_FLOW,
        welcome_flow=WELCOME_FLOW,
        language_flow=LANGUAGE_FLOW,
        forget_flow=FORGET_FLOW,
        help_text=help_text,
        coming_soon=coming_soon,
        stop_word=stop_word,
        redelivered=receipt_again,
        actions={
            REVIEW: review_action,
            ANSWER: answer_action,
            CANCEL: cancel_action,
            DECIDE: decide_action,
            REMOVE: remove_action,
            RSVP: rsvp_action,
            MOVE_SESSION: move_action,
            CANCEL_SESSION: cancel_session_action,
            STOP_RULE: stop_rule_action,
            ROLL_CALL: roll_call_action,
            MARK: mark_action,
        },
        command_handlers={
            "role": set_role,
            "roles": list_roles,
            "whoami": whoami,
            "diffusion": broadcast_progress,
            "announcements": list_scheduled,
            "members": list_members,
            "participation": participation,
            "new_committee": new_committee,
            "checkin": checkin,
            "bulletin": bulletin,
            "stats": stats,
            "export": export,
        },
    )

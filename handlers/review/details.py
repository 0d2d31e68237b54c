""" "Ask for details": a validator's question relayed to the reporter, and the answer back.

The reporter never learns who asked (the question comes from "the analysis team"), and the
validator never learns who answers (the pseudonym only). Only reporters who accepted to be
contacted are asked: "anonymous" is a promise that nobody comes back to them.
"""

from __future__ import annotations

from bot.flow import Finish, Flow, Retry, TextStep, Transition, Turn
from bot.inbound import MediaEvent, action_data
from handlers.report.staff_view import pseudonym
from handlers.review.decisions import already_decided, open_report
from handlers.review.posting import reviewers
from storage import outbox, reports, review, users
from storage.outbox import Outgoing
from storage.reports import Contact, Status

ASK_FLOW = "review_ask"
ANSWER_FLOW = "report_answer"
ANSWER = "rq"  # the action name of the reporter's "Answer" button
MAX_QUESTION = 500
MAX_ANSWER = 2000


class QuestionText(TextStep):
    name = "question"

    async def enter(self, turn: Turn) -> Finish | None:
        report = await open_report(turn)
        if report is None or await already_decided(turn, report):
            return Finish()
        if report.reporter_id is None or report.contact == Contact.ANONYMOUS:
            turn.say(
                turn.t._(
                    "Le rapporteur de {reference} a choisi de rester anonyme, sans être "
                    "recontacté : il n'est pas possible de lui poser une question.",
                    reference=report.reference,
                )
            )
            return Finish()
        return None

    async def question(self, turn: Turn) -> str:
        report = await reports.get(turn.conn, int(turn.answers["report_id"]))
        return turn.t._(
            "Écrivez votre question pour le rapporteur de {reference}. Elle lui sera "
            "transmise de la part de « l'équipe d'analyse », sans votre nom.",
            reference=report.reference if report else "?",
        )

    async def typed(self, turn: Turn, text: str) -> Transition:
        if len(text) > MAX_QUESTION:
            return Retry(
                turn.t._(
                    "Cette question est trop longue ({length} caractères, {limit} au "
                    "maximum). Raccourcissez-la.",
                    length=turn.t.number(len(text)),
                    limit=turn.t.number(MAX_QUESTION),
                )
            )
        report = await open_report(turn)
        if report is None or report.reporter_id is None:
            return Finish()
        reporter = await users.get(turn.conn, report.reporter_id)
        if reporter is None:
            return Finish()
        asked = await review.ask(turn.conn, report.id, turn.user.id, text, turn.now)
        t = turn.translator(reporter.language)
        await outbox.enqueue(
            turn.conn,
            key=f"question:{asked.id}",
            kind="notice",
            channel=reporter.channel,
            chat_id=reporter.chat_id,
            user_id=reporter.id,
            outgoing=Outgoing(
                t._(
                    "❓ L'équipe d'analyse a une question sur votre signalement {reference} :"
                    "\n\n« {question} »\n\nTouchez « Répondre » pour lui répondre. Votre "
                    "identité ne lui est pas montrée.",
                    reference=report.reference,
                    question=text,
                ),
                buttons=(((t._("✍️ Répondre"), action_data(ANSWER, asked.id)),),),
            ),
            now=turn.now,
        )
        turn.say(
            turn.t._(
                "❓ Question envoyée au rapporteur de {reference}. Sa réponse vous sera "
                "transmise ici.",
                reference=report.reference,
            )
        )
        return Finish()


class AnswerText(TextStep):
    name = "answer"

    async def question(self, turn: Turn) -> str:
        asked = await review.question(turn.conn, int(turn.answers["question_id"]))
        return turn.t._(
            "Écrivez votre réponse à la question de l'équipe d'analyse :\n« {question} »",
            question=asked.question if asked else "",
        )

    async def media(self, turn: Turn, event: MediaEvent) -> Transition:
        return Retry(
            turn.t._("Pour cette réponse, écrivez un message (les fichiers ne passent pas ici).")
        )

    async def typed(self, turn: Turn, text: str) -> Transition:
        if len(text) > MAX_ANSWER:
            return Retry(
                turn.t._(
                    "Votre réponse est trop longue ({length} caractères, {limit} au maximum). "
                    "Raccourcissez-la.",
                    length=turn.t.number(len(text)),
                    limit=turn.t.number(MAX_ANSWER),
                )
            )
        asked = await review.question(turn.conn, int(turn.answers["question_id"]))
        report = await reports.get(turn.conn, asked.report_id) if asked else None
        if asked is None or report is None or report.reporter_id != turn.user.id:
            turn.say(turn.t._("Cette question n'existe plus."))
            return Finish()
        if not await review.answer(turn.conn, asked.id, text, turn.now):
            turn.say(turn.t._("Vous avez déjà répondu à cette question. Merci !"))
            return Finish()
        await review.set_status(turn.conn, report.id, Status.UNDER_REVIEW)
        who = await pseudonym(turn.conn, report.reporter_id)
        targets: dict[str, tuple[str, str | None, int | None]] = {}
        if asked.asked_by is not None:
            asker = await users.get(turn.conn, asked.asked_by)
            if asker is not None:
                targets[asker.chat_id] = (asker.channel, asker.language, asker.id)
        for reviewer in await reviewers(turn.conn, turn.settings, report):
            if reviewer.user_id is None:  # the review group sees the answer too
                targets.setdefault(reviewer.chat_id, (reviewer.channel, None, None))
        for chat_id, (channel, language, user_id) in targets.items():
            t = turn.translator(language)
            await outbox.enqueue(
                turn.conn,
                key=f"answer:{asked.id}:{chat_id}",
                kind="notice",
                channel=channel,
                chat_id=chat_id,
                user_id=user_id,
                outgoing=Outgoing(
                    t._(
                        "💬 Réponse de {who} sur {reference} à « {question} » :\n\n{answer}",
                        who=t._("Rapporteur {code}", code=who),
                        reference=report.reference,
                        question=asked.question,
                        answer=text,
                    )
                ),
                now=turn.now,
            )
        turn.say(turn.t._("Merci, votre réponse a été transmise à l'équipe d'analyse."))
        return Finish()


def details_flows() -> list[Flow]:
    return [Flow(ASK_FLOW, [QuestionText()]), Flow(ANSWER_FLOW, [AnswerText()])]

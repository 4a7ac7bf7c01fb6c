"""A widget site's survey: up to five questions a patron answers about a chat that has ended,
besides the rating (reference.feedback).

Questions are kept by staff per site in both languages (admin → Widget sites). A patron answers
some or all of them, in the widget after a live chat (the `survey` frame) or on the public page an
offline answer's e-mail may link to (`/survey/<token>/`, reference.survey_views). Every answer is
checked before anything is stored, and answering again replaces the earlier answer. The reports
read the figures through `survey_results`.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone

from reference import feedback
from reference.errors import ServiceError
from reference.models import Conversation, SurveyAnswer, SurveyQuestion
from reference.protocol import is_int

Kind = SurveyQuestion.Kind
CHOICES = [choice.value for choice in SurveyAnswer.Choice]
SCORES = [1, 2, 3, 4, 5]
TEXT_MAX_LENGTH = 1000
TEXTS_SHOWN = 20  # free-text answers per question in survey_results, newest first

LINK_SALT = "reference.surveys.link"
LINK_MAX_AGE = timedelta(days=30)


# ---- the questions


def question_text(question, language):
    """The question in `language` ("en" or, by default, Indonesian)."""
    return question.text_en if language == "en" else question.text_id


def active_questions(site_id):
    """The site's active questions, in their order (at most SurveyQuestion.MAX_PER_SITE)."""
    return list(SurveyQuestion.objects.filter(site_id=site_id, is_active=True)
                .order_by("position", "pk")[:SurveyQuestion.MAX_PER_SITE])


def question_payload(question, language):
    """{"id", "kind", "text", "options": [{"value", "label"}]} (no options for free text), the
    labels in the active language."""
    if question.kind == Kind.YES_PARTLY_NO:
        options = [{"value": value, "label": str(label)} for value, label in SurveyAnswer.Choice.choices]
    elif question.kind == Kind.SCALE:
        options = [{"value": score, "label": str(score)} for score in SCORES]
    else:
        options = []
    return {"id": question.pk, "kind": question.kind, "text": question_text(question, language), "options": options}


def site_questions(site_id, language):
    """The site's active questions as plain payloads (question_payload) in the patron's language, in
    their order."""
    return [question_payload(question, language) for question in active_questions(site_id)]


def check_active_count(count):
    """Staff keep at most MAX_PER_SITE active questions per site (the admin's inline asks this)."""
    if count > SurveyQuestion.MAX_PER_SITE:
        raise ServiceError("survey_too_many_questions", limit=SurveyQuestion.MAX_PER_SITE)


# ---- answering


def parse_answers(items):
    """The `answers` of a `survey` frame, [{"question": id, "answer": value}…], as {id: value};
    a malformed entry or a question named twice is `invalid_frame`."""
    answers = {}
    for item in items:
        if not isinstance(item, dict) or not is_int(item.get("question")) or "answer" not in item:
            raise ServiceError("invalid_frame", field="answers")
        if item["question"] in answers:
            raise ServiceError("invalid_frame", field="answers")
        answers[item["question"]] = item["answer"]
    return answers


def check_answer(question, value):
    """One answer checked for its question's kind: the fields to store, or ServiceError naming the question."""
    field = f"survey-{question.pk}"
    if question.kind == Kind.YES_PARTLY_NO:
        if not isinstance(value, str) or value not in CHOICES:
            raise ServiceError("invalid_survey_choice", field=field)
        return {"choice": value, "score": None, "text": ""}
    if question.kind == Kind.SCALE:
        if not is_int(value) or value not in SCORES:
            raise ServiceError("invalid_survey_score", field=field)
        return {"choice": "", "score": value, "text": ""}
    if not isinstance(value, str):
        raise ServiceError("invalid_frame", field=field)
    text = value.strip()
    if not text:
        raise ServiceError("survey_answer_empty", field=field)
    if len(text) > TEXT_MAX_LENGTH:
        raise ServiceError("survey_answer_too_long", field=field, limit=TEXT_MAX_LENGTH)
    return {"choice": "", "score": None, "text": text}


def check_answers(site_id, answers):
    """Every answer of {question id: value} checked against the site's active questions:
    [(question, fields)], or ServiceError for the first bad one (so nothing is stored)."""
    if not answers:
        raise ServiceError("survey_empty")
    questions = {question.pk: question for question in active_questions(site_id)}
    checked = []
    for question_id, value in answers.items():
        question = questions.get(question_id)
        if question is None:  # unknown, no longer asked, or another site's
            raise ServiceError("unknown_survey_question", field=f"survey-{question_id}")
        checked.append((question, check_answer(question, value)))
    return checked


def do_answer_survey(*, patron_id, conversation_id, answers):
    """The patron answers questions ({question id: value}) about their own closed conversation; each
    answer replaces an earlier one to the same question. All or nothing. Returns the conversation's
    answers, in the questions' order."""
    with transaction.atomic():
        conversation = feedback.locked_closed_conversation(patron_id=patron_id, conversation_id=conversation_id)
        checked = check_answers(conversation.site_id, answers)
        now = timezone.now()
        SurveyAnswer.objects.bulk_create(
            [SurveyAnswer(conversation=conversation, question=question, answered_at=now, **fields)
             for question, fields in checked],
            update_conflicts=True, unique_fields=["conversation", "question"],
            update_fields=["choice", "score", "text", "answered_at"])
    return answers_of(conversation.pk)


def do_give_feedback(*, conversation_id, rating=None, comment="", answers=None):
    """The public survey page: a rating (1–5 and a comment) and answers, each optional but not both
    missing; all stored or, when one is refused, none."""
    answers = answers or {}
    if rating is None:
        if isinstance(comment, str) and comment.strip():
            raise ServiceError("invalid_rating")  # a comment belongs to a rating
        if not answers:
            raise ServiceError("feedback_empty")
    with transaction.atomic():
        patron_id = Conversation.objects.filter(pk=conversation_id).values_list("patron_id", flat=True).first()
        if rating is not None:
            feedback.do_rate(patron_id=patron_id, conversation_id=conversation_id, rating=rating, comment=comment)
        if answers:
            do_answer_survey(patron_id=patron_id, conversation_id=conversation_id, answers=answers)


def answers_of(conversation_id):
    return list(SurveyAnswer.objects.filter(conversation_id=conversation_id)
                .order_by("question__position", "question_id"))


def answer_value(answer):
    """What the patron answered: "yes"/"partly"/"no", 1–5 or the text."""
    return answer.choice or answer.score or answer.text


# ---- the link in an offline answer's e-mail


def offline_link_due(conversation):
    """Whether this offline answer's e-mail carries the survey link: the site's share of them,
    chosen by the conversation's id (the same answer every time, spread evenly)."""
    digest = hashlib.sha256(f"survey-link:{conversation.pk}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < conversation.site.offline_survey_percent


def link_token(conversation_id):
    return signing.dumps(conversation_id, salt=LINK_SALT)


def offline_survey_url(conversation):
    """The absolute survey link for this offline answer's e-mail, or None when it carries none."""
    if not offline_link_due(conversation):
        return None
    return settings.PUBLIC_URL.rstrip("/") + reverse("reference:survey", args=[link_token(conversation.pk)])


def conversation_from_link(token):
    """The closed conversation a survey link names, with its site and patron; ServiceError
    `survey_link_expired` or `survey_link_invalid` otherwise (also once it was anonymised)."""
    try:
        conversation_id = signing.loads(token, salt=LINK_SALT, max_age=LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise ServiceError("survey_link_expired") from None
    except signing.BadSignature:
        raise ServiceError("survey_link_invalid") from None
    conversation = (Conversation.objects.select_related("site", "patron")
                    .filter(pk=conversation_id, status=Conversation.Status.CLOSED, anonymised_at=None).first()
                    if is_int(conversation_id) else None)
    if conversation is None:
        raise ServiceError("survey_link_invalid")
    return conversation


# ---- results, for the reports


@dataclass(frozen=True)
class TextAnswer:
    conversation_id: int
    text: str
    answered_at: datetime


@dataclass(frozen=True)
class QuestionResult:
    """The answers to one question. `counts` holds every possible answer in order, with 0 for
    none: {"yes": n, "partly": n, "no": n} or {1: n, …, 5: n}; empty for free text, whose newest
    answers are in `texts`. `average` is that of a 1–5 question (None otherwise, or unanswered)."""

    question: SurveyQuestion  # its site selected
    kind: str
    answered: int
    counts: dict
    average: float | None
    texts: tuple[TextAnswer, ...]


def survey_results(conversations, *, texts=TEXTS_SHOWN):
    """The survey answers given about `conversations` (a Conversation queryset, as filtered by the
    report), per question: the questions answered there and the active questions of their sites,
    by site and position. Three queries whatever the number of conversations: the counts grouped
    by question and answer, the `texts` newest free-text answers per question (a window function),
    and the questions."""
    answers = SurveyAnswer.objects.filter(conversation__in=conversations.values("pk"))
    grouped = {}
    for row in answers.values("question_id", "choice", "score").annotate(n=Count("pk")).order_by():
        grouped.setdefault(row["question_id"], []).append(row)
    newest = {}
    for row in (answers.filter(question__kind=Kind.TEXT)
                .annotate(rank=Window(RowNumber(), partition_by=F("question_id"),
                                      order_by=[F("answered_at").desc(), F("pk").desc()]))
                .filter(rank__lte=texts).order_by("question_id", "rank")
                .values("question_id", "conversation_id", "text", "answered_at")):
        newest.setdefault(row["question_id"], []).append(
            TextAnswer(row["conversation_id"], row["text"], row["answered_at"]))
    questions = SurveyQuestion.objects.select_related("site").filter(
        Q(pk__in=list(grouped)) | Q(is_active=True, site__in=conversations.values("site_id")))
    return [_result(question, grouped.get(question.pk, []), newest.get(question.pk, ()))
            for question in questions.order_by("site__name", "site_id", "position", "pk")]


def _result(question, rows, texts):
    answered = sum(row["n"] for row in rows)
    if question.kind == Kind.YES_PARTLY_NO:
        counts = {choice: sum(r["n"] for r in rows if r["choice"] == choice) for choice in CHOICES}
    elif question.kind == Kind.SCALE:
        counts = {score: sum(r["n"] for r in rows if r["score"] == score) for score in SCORES}
    else:
        counts = {}
    average = (round(sum(score * n for score, n in counts.items()) / answered, 2)
               if question.kind == Kind.SCALE and answered else None)
    return QuestionResult(question=question, kind=question.kind, answered=answered, counts=counts,
                          average=average, texts=tuple(texts))

"""/survey/<signed link>/: the public page an offline answer's e-mail may link to (reference.surveys).

No login: the signed link is the permission, for LINK_MAX_AGE (30 days). The page shows the rating
(1–5 and a comment, reference.feedback) and the site's questions in the patron's language (or the
one the visitor chose in the top bar); sending stores them all or, when one is refused, none.
"""

import re

from django.conf import settings
from django.contrib import messages as flash
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from reference import feedback, surveys
from reference.errors import ServiceError
from reference.models import SurveyQuestion

_ANSWER_FIELD = re.compile(r"^q-([0-9]{1,18})$")


@require_http_methods(["GET", "POST"])
def survey_page(request, token):
    try:
        conversation = surveys.conversation_from_link(token)
    except ServiceError as refused:
        status = 410 if refused.code == "survey_link_expired" else 404
        return render(request, "reference/survey_link.html", {"message": refused.message}, status=status)
    chosen = settings.LANGUAGE_COOKIE_NAME in request.COOKIES  # the top bar's choice wins
    language = translation.get_language() if chosen else conversation.patron.language or settings.LANGUAGE_CODE
    with translation.override(language):
        questions = surveys.active_questions(conversation.site_id)
        error, status = None, 200
        if request.method == "POST":
            try:
                surveys.do_give_feedback(conversation_id=conversation.pk, **_posted(request.POST, questions))
            except ServiceError as refused:
                error, status = refused.message, 400
            else:
                flash.success(request, _("Thank you! Your answers have been saved."))
                return redirect(request.path)
        response = render(request, "reference/survey.html", {
            "site": conversation.site, "conversation": conversation, "error": error,
            "questions": _shown(questions, language, request.POST if error else None, conversation),
            "rating": request.POST.get("rating", "") if error else str(conversation.rating or ""),
            "comment": request.POST.get("comment", "") if error else conversation.rating_comment,
            "comment_max": feedback.COMMENT_MAX_LENGTH, "text_max": surveys.TEXT_MAX_LENGTH,
        }, status=status)
        response["Content-Language"] = language
    return response


def _posted(post, questions):
    """The form as do_give_feedback's arguments: a blank answer is no answer; 1–5 become numbers."""
    scales = {question.pk for question in questions if question.kind == SurveyQuestion.Kind.SCALE}
    answers = {}
    for name, value in post.items():
        match = _ANSWER_FIELD.match(name)
        if match and value.strip():
            question_id = int(match.group(1))
            answers[question_id] = int(value) if question_id in scales and value.isdigit() else value
    rating = post.get("rating", "").strip()
    return {"rating": int(rating) if rating.isdigit() else (rating or None),
            "comment": post.get("comment", ""), "answers": answers}


def _shown(questions, language, post, conversation):
    """The questions as the form shows them, each with the answer to fill in: the one just sent
    back (after an error), else the one stored."""
    if post is not None:
        values = {question.pk: post.get(f"q-{question.pk}", "") for question in questions}
    else:
        values = {a.question_id: str(surveys.answer_value(a)) for a in surveys.answers_of(conversation.pk)}
    return [{**surveys.question_payload(question, language), "value": values.get(question.pk, "")}
            for question in questions]

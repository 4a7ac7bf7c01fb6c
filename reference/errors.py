"""The one error type the domain raises; consumers turn it into an `error` frame."""

from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "bad_json": _("That frame is not valid JSON."),
    "frame_too_large": _("That frame is too large."),
    "unknown_type": _("Unknown frame type."),
    "frame_too_deep": _("That frame nests too deeply (at most %(limit)s levels)."),
    "invalid_text": _("The field “%(field)s” holds a character that is not text (NUL or a lone surrogate)."),
    "unavailable": _("The service is busy for a moment; nothing was changed. Please try again in a few seconds."),
    "internal_error": _("Something went wrong on our side; reconnecting. Nothing you sent before this was lost."),
    "logged_out": _("You have logged out; log in again to go on."),
    "invalid_frame": _("The field “%(field)s” is missing or of the wrong kind."),
    "hello_required": _("Say hello first."),
    "hello_timeout": _("No hello arrived in time; reconnect to go on."),
    "unsupported_version": _("This protocol version is not supported; reload the page."),
    "token_invalid": _("Your chat session is not valid; reload the page to start again."),
    "token_expired": _("Your chat session has expired; reload the page to start again."),
    "not_authenticated": _("Log in as library staff to use the dashboard."),
    "empty_message": _("The message is empty."),
    "message_too_long": _("The message is too long (at most %(limit)s characters)."),
    "conversation_open": _("You already have an open conversation."),
    "no_conversation": _("There is no conversation yet; ask a question first."),
    "conversation_closed": _("This conversation has been closed."),
    "not_found": _("That conversation does not exist."),
    "not_member": _("You are not a member of that conversation’s queue."),
    "no_cover_agreement": _("Your library has no cover agreement for that conversation’s queue."),
    "cover_ended": _("The cover agreement for that queue has ended."),
    "cover_not_started": _("The cover agreement for that queue has not started yet."),
    "cover_outside_hours": _("The cover agreement for that queue does not apply at this time of day."),
    "cover_home_open": _("The home library’s queue is open: its own librarians answer now."),
    "cover_not_due": _("That chat has not waited long enough for your library to take it."),
    "not_covered": _("Only a chat you answer for another library can be left for it to answer by email."),
    "patron_email_missing": _("The patron gave no email address: send the chat back to a queue instead."),
    "already_claimed": _("Another librarian has already taken this conversation."),
    "at_capacity": _("You already hold as many chats as you can take (%(limit)s)."),
    "not_assigned": _("You do not hold this conversation."),
    "duplicate_client_id": _("That message id is already used in this conversation."),
    "invalid_status": _("The status must be available, away or offline."),
    "invalid_capacity": _("Choose between 1 and %(limit)s chats at once."),
    "unknown_librarian": _("There is no such librarian."),
    "unknown_queue": _("There is no such queue."),
    "librarian_unavailable": _("%(name)s is not available right now."),
    "librarian_full": _("%(name)s already holds as many chats as they can take."),
    "transfer_to_self": _("You already hold this chat."),
    "transfer_pending": _("This chat already has a transfer waiting for an answer."),
    "offer_expired": _("This transfer is no longer open."),
    "note_too_long": _("The note is too long (at most %(limit)s characters)."),
    "note_empty": _("The note is empty."),
    "note_about": _("A note is about this chat or about the patron."),
    "email_required": _("Please give an email address, so that we can send you the answer."),
    "guardian_email_required": _("Please give the email address of a parent or guardian, so that we can send "
                                 "the answer there."),
    "invalid_age_group": _("The age group must be “child” (under 18) or “adult”."),
    "already_answered": _("This question has already been answered."),
    "not_offline": _("That is not a question left offline."),
    "bad_seq": _("That message number is beyond the end of the conversation."),
    "invalid_email": _("That email address does not look right."),
    "name_too_long": _("The name is too long (at most 100 characters)."),
    "attachment_missing": _("Choose a file to send."),
    "attachment_empty": _("That file is empty."),
    "attachment_too_large": _("That file is too large (at most %(limit)s)."),
    "attachment_type": _("Only images (JPEG, PNG, GIF, WebP) and PDF files can be sent."),
    "attachment_not_yours": _("That file was not uploaded by you into this conversation."),
    "attachment_used": _("That file has already been sent."),
    "not_closed": _("This can only be done once the chat has ended."),
    "invalid_rating": _("Choose a rating from 1 to 5."),
    "comment_too_long": _("The comment is too long (at most %(limit)s characters)."),
    "transcript_limit": _("This transcript has already been sent %(limit)s times."),
    "email_failed": _("The email could not be sent. Please try again later."),
    "field_required": _("Please fill in “%(label)s”."),
    "invalid_card": _("That library card number does not look right (letters, digits, spaces and dashes; "
                      "at most %(limit)s)."),
    # Abuse limits and blocks (reference/limits.py, reference/blocking.py); `retry_after`: whole seconds
    "rate_limited": _("That was too much at once. Please wait %(retry_after)s seconds and try again."),
    "blocked": _("A librarian has paused chatting from here until %(until)s. Please try again after that, "
                 "or contact the library another way."),
    "transcript_offline": _("A question left offline gets its answer by email, so no transcript is sent."),
    "invalid_block_minutes": _("Choose how long to block: 15 minutes, 1 hour or 1 day."),
    "block_reason_too_long": _("The reason is too long (at most %(limit)s characters)."),
    # Assessment (reference/assessment.py)
    "unknown_topic": _("That topic does not exist in this library, or is no longer in use."),
    "invalid_read_scale": _("Choose a READ scale value from 1 to 6."),
    "invalid_question_type": _("Choose a question type: directional, ready reference, research, technical or policy."),
    "assessment_required": _("Before closing this chat, %(missing)s in the Assessment section."),
    "topic_exists": _("There is already a topic called “%(label)s”."),
    "topic_label_too_long": _("A topic label is at most %(limit)s characters."),
    # Surveys (reference/surveys.py; `field` names the question, survey-<id>)
    "survey_empty": _("Answer at least one question."),
    "feedback_empty": _("Choose a rating or answer at least one question."),
    "unknown_survey_question": _("That question is not part of this survey (any more)."),
    "invalid_survey_choice": _("Answer yes, partly or no."),
    "invalid_survey_score": _("Choose a value from 1 to 5."),
    "survey_answer_empty": _("Write an answer, or leave the question out."),
    "survey_answer_too_long": _("An answer is too long (at most %(limit)s characters)."),
    "survey_too_many_questions": _("A site asks at most %(limit)s active questions: make one inactive first."),
    "survey_link_invalid": _("This survey link is not valid. Please open the link from the e-mail as it is."),
    "survey_link_expired": _("This survey link has expired. Thank you all the same!"),
    # FAQ
    # (reference/faq/services.py and curation.py; their `field` parameter, when given, names the form field)
    "faq_bad_slug": _("The slug must be lower-case letters, digits and hyphens."),
    "faq_bad_language": _("The language must be “id” or “en”."),
    "faq_question_empty": _("The question is empty."),
    "faq_question_too_long": _("The question is too long."),
    "faq_answer_empty": _("The answer is empty."),
    "faq_bad_topics": _("Topics must be a list of words."),
    "faq_bad_translation": _("A translation must link to an entry in the other language."),
    "faq_unknown_status": _("Unknown status."),
    "faq_import_not_list": _("The file must hold a JSON array of entries."),
    "faq_import_not_object": _("Each entry must be a JSON object."),
    "faq_import_bad_link": _("“translation_of” must be a slug."),
    "faq_import_unknown_link": _("“translation_of” names no entry in the other language: %(slug)s"),
    "faq_transcript_open": _("Only a closed transcript can become an FAQ draft."),
    "faq_opted_out": _("The patron asked that this conversation not be reused for the FAQ."),
    "faq_transcript_anonymised": _("This conversation has been anonymised: it can no longer become an FAQ draft."),
    "faq_no_messages": _("Select at least one message."),
    "faq_no_patron_message": _("Select at least one message from the patron: it becomes the question."),
    "faq_no_librarian_message": _("Select at least one message from the librarian: it becomes the answer."),
    # Canned replies
    # (reference/canned.py; `field` names the form field, `language` the text's language)
    "canned_not_found": _("That canned reply does not exist."),
    "canned_forbidden": _("Only staff who manage shared replies may change replies shared with a queue or "
                          "the whole library."),
    "canned_title_empty": _("Give the reply a title."),
    "canned_title_too_long": _("The title is too long (at most %(limit)s characters)."),
    "canned_bad_scope": _("Choose who the reply is for: only you, a queue or the whole library."),
    "canned_queue_required": _("Choose the queue to share the reply with."),
    "canned_text_empty": _("The %(language)s text is empty."),
    "canned_text_too_long": _("The %(language)s text is too long (at most %(limit)s characters)."),
    "canned_unknown_variable": _("The %(language)s text has an unknown variable {%(name)s}. "
                                 "The variables are %(known)s."),
    "canned_bad_brace": _("The %(language)s text has a brace that belongs to no variable, near “%(near)s”. "
                          "Write a variable as {patron_name}, a brace itself as {{ or }}."),
    "canned_bad_request": _("The request must be a JSON object."),
    # A patron's data (reference/patron_data.py)
    "anonymised": _("This conversation has been anonymised under the library's retention periods."),
    "patron_lookup_empty": _("Give an e-mail address, a library card number or a conversation number."),
    "invalid_conversation_number": _("A conversation number is digits only, such as 1024."),
    "patron_not_found": _("No patron of this library matches."),
    "patron_chat_open": _("Conversation #%(number)s of this patron is still open. End it first, then erase."),
}

# Errors after which the socket is closed, with the close code to use.
FATAL_CLOSE_CODES = {
    "unsupported_version": 4400,
    "token_invalid": 4401,
    "token_expired": 4401,
    "not_authenticated": 4403,
    "logged_out": 4403,
    "internal_error": 1011,
    "hello_timeout": 4408,
}


class ServiceError(Exception):
    """A request that breaks a rule. Raised before anything is changed."""

    def __init__(self, code, detail=None, **params):
        self.code = code
        self.detail = detail
        self.params = params
        super().__init__(code if detail is None else f"{code}: {detail}")

    @property
    def message(self):
        """A readable, translated message (evaluated in the active language)."""
        text = str(self.detail or MESSAGES[self.code])
        return text % self.params if self.params else text

    @property
    def fatal_close_code(self):
        return FATAL_CLOSE_CODES.get(self.code)

"""A patron's whole footprint, made through the services: a chat with a file, notes, a transfer,
a rating comment, a survey text and an FAQ draft; and an offline question. For the retention and
the patron's-rights tests."""

from django.core.files.uploadedfile import SimpleUploadedFile

from reference import attachments, feedback, handoff, lifecycle, messaging, notes, surveys
from reference.faq import curation
from reference.models import Conversation, SurveyQuestion
from reference.presence_store import get_store
from tests import files
from tests.starting import held_chat, start_chat


def full_chat(*, identity, librarian, colleague, name="Rina Sitepu", email="rina.sitepu@gmail.com",
              card_number="TT-2024-00123", text="Nomor saya 0812-3456-7890, bisa pinjam buku Laskar Pelangi?"):
    """Closed, rated, surveyed, with a patron file, both kinds of notes, an accepted transfer and an
    FAQ draft made from it. Returns the conversation."""
    conversation = held_chat(identity=identity, librarian=librarian, text=text, name=name, email=email,
                             card_number=card_number)
    upload = attachments.upload_for_patron(patron=conversation.patron, conversation_id=conversation.pk,
                                           uploaded=SimpleUploadedFile("ktp-saya.png", files.png(3, 2)))
    messaging.do_send_patron_message(patron_id=identity.patron_id, text="Ini foto kartu saya", client_id="p-2",
                                     attachment_id=upload.pk)
    notes.do_add_note(user=librarian, conversation_id=conversation.pk, text="Rina minta diperpanjang")
    notes.do_add_note(user=librarian, conversation_id=conversation.pk, text="Sering lupa kartu", about="patron")
    get_store().beat(colleague.pk, f"tab-{colleague.pk}", 60)  # the colleague is on duty
    transfer = handoff.do_offer_transfer(user=librarian, conversation_id=conversation.pk,
                                         to_user_id=colleague.pk, note="Rina butuh bantuan koleksi anak")
    handoff.do_accept_transfer(user=colleague, transfer_id=transfer.pk)
    messaging.do_send_librarian_message(user=colleague, conversation_id=conversation.pk,
                                        text="Bisa, Bu Rina. Bukunya ada di rak 899.221 HIR l.", client_id="l-1")
    lifecycle.do_close_by_librarian(user=colleague, conversation_id=conversation.pk)
    feedback.do_rate(patron_id=identity.patron_id, conversation_id=conversation.pk, rating=4,
                     comment="Terima kasih Kak Dewi, sangat membantu")
    question = SurveyQuestion.objects.create(site=conversation.site, kind=SurveyQuestion.Kind.TEXT,
                                             text_id="Apa yang bisa lebih baik?", text_en="What could be better?")
    surveys.do_answer_survey(patron_id=identity.patron_id, conversation_id=conversation.pk,
                             answers={question.pk: "Saya Rina dari Jl. Sudirman No. 5"})
    message_ids = list(conversation.messages.exclude(text="").values_list("pk", flat=True))
    conversation.refresh_from_db()
    curation.create_draft_from_transcript(conversation=conversation, message_ids=message_ids, editor=librarian)
    return Conversation.objects.get(pk=conversation.pk)


def offline_question(*, identity, email="budi@example.org", text="Kapan perpustakaan buka hari Sabtu?"):
    conversation, _message, _created = start_chat(identity=identity, text=text, client_id="off-1", email=email,
                                                  name="Budi", offline=True)
    return conversation

"""Retention (reference.retention): time moved forward past each library's periods anonymises or
deletes exactly what has outlived them; nothing younger is touched and the reports' figures stay."""

import datetime as dt
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from reference.faq.models import FaqEntry, FaqRevision, FaqSearchMiss
from reference.models import (
    AgeGroup,
    Attachment,
    AuditEvent,
    Conversation,
    InternalNote,
    Library,
    LibraryCard,
    Message,
    Patron,
    SurveyAnswer,
    Transfer,
)
from reference.reports import figures, filters
from reference.retention import apply_retention
from tests.privacy_data import full_chat, offline_question

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def colleague(make_librarian):
    return make_librarian(username="dewi", display_name="Dewi")


@pytest.fixture
def library(site):
    return site.library


@pytest.fixture
def old_chat(identity, librarian, colleague):
    return full_chat(identity=identity, librarian=librarian, colleague=colleague)


def later(days):
    return timezone.now() + timedelta(days=days)


def headline(user):
    today = timezone.localdate()
    _form, query = filters.report_query(user, {"start": str(today - timedelta(days=30)), "end": str(today)})
    h = figures.build_report(query).headline
    return h


def test_a_dry_run_counts_and_changes_nothing(old_chat, library, media_root):
    files_before = sorted(p.name for p in media_root.rglob("*") if p.is_file())
    result = apply_retention(now=later(400), dry_run=True)
    assert result.counts["conversations"] == 1 and result.counts["attachments"] == 1
    assert result.counts["rating_comments"] == 1 and result.counts["survey_texts"] == 1
    old_chat.refresh_from_db()
    assert old_chat.anonymised_at is None and old_chat.patron is not None
    assert sorted(p.name for p in media_root.rglob("*") if p.is_file()) == files_before
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.RETENTION).exists()


def test_a_chat_past_its_period_is_anonymised_and_the_figures_stay(old_chat, library, librarian, media_root,
                                                                    django_user_model):
    manager = django_user_model.objects.create_superuser("kepala", password="pw")
    before = headline(manager)
    patron_id = old_chat.patron_id
    message_count = old_chat.messages.count()
    assert list(media_root.rglob("*.png"))

    result = apply_retention(now=later(library.retention_days + 1))

    assert result.counts["conversations"] == 1
    chat = Conversation.objects.get(pk=old_chat.pk)
    assert chat.anonymised_at is not None and chat.patron is None
    assert chat.subject == "" and chat.rating_comment == ""
    assert chat.rating == 4  # the figure stays
    assert Message.objects.filter(conversation=chat).count() == message_count
    assert not Message.objects.filter(conversation=chat).exclude(text="").exists()
    assert not Message.objects.filter(conversation=chat, role="patron").exclude(author_name="").exists()
    assert Message.objects.filter(conversation=chat, attachment_removed=True).count() == 1
    assert not Attachment.objects.exists() and not list(media_root.rglob("*.png"))  # gone from storage too
    assert not InternalNote.objects.exists()
    assert not Transfer.objects.exclude(note="").exists()
    assert not SurveyAnswer.objects.exclude(text="").exists()
    assert not FaqEntry.source_conversations.through.objects.exists()
    assert not Patron.objects.filter(pk=patron_id).exists() and not LibraryCard.objects.exists()
    assert headline(manager) == before  # the reports count exactly as before
    logged = AuditEvent.objects.get(action=AuditEvent.Action.RETENTION)
    assert logged.actor == "scheduler" and logged.detail["counts"]["conversations"] == 1


def test_nothing_inside_its_period_is_touched(old_chat, library, media_root):
    result = apply_retention(now=later(library.attachment_retention_days - 1))
    assert not any(result.counts.values())
    chat = Conversation.objects.get(pk=old_chat.pk)
    assert chat.anonymised_at is None and chat.rating_comment and chat.patron is not None
    assert Attachment.objects.count() == 1 and list(media_root.rglob("*.png"))
    assert InternalNote.objects.count() == 2


def test_each_kind_goes_at_its_own_period(old_chat, library):
    # Files first (90 days), then everything else at 365: between them only the file has gone.
    result = apply_retention(now=later(library.attachment_retention_days + 1))
    assert result.counts["attachments"] == 1 and result.counts["conversations"] == 0
    chat = Conversation.objects.get(pk=old_chat.pk)
    assert chat.anonymised_at is None and chat.subject
    message = Message.objects.get(conversation=chat, attachment_removed=True)
    assert message.text == "Ini foto kartu saya" and message.attachment is None


def test_comments_can_go_sooner_than_the_chat(old_chat, library):
    Library.objects.filter(pk=library.pk).update(feedback_retention_days=30)
    apply_retention(now=later(31))
    chat = Conversation.objects.get(pk=old_chat.pk)
    assert chat.rating_comment == "" and chat.rating == 4 and chat.anonymised_at is None
    assert SurveyAnswer.objects.get().text == ""
    assert chat.messages.exclude(text="").exists()  # the transcript itself is younger than its period


def test_an_empty_period_keeps_that_data(old_chat, library):
    Library.objects.filter(pk=library.pk).update(retention_days=None, attachment_retention_days=None,
                                                 feedback_retention_days=None, faq_source_retention_days=None)
    result = apply_retention(now=later(5000))
    assert result.counts["conversations"] == 0 and result.counts["attachments"] == 0
    assert Conversation.objects.get(pk=old_chat.pk).anonymised_at is None


def test_an_offline_question_has_its_own_period_and_an_open_chat_is_never_touched(make_identity, library,
                                                                                  librarian):
    from tests.starting import start_chat

    asked = offline_question(identity=make_identity())
    waiting, _message, _created = start_chat(identity=make_identity(), text="Masih menunggu", client_id="w-1")
    Library.objects.filter(pk=library.pk).update(offline_retention_days=10)
    result = apply_retention(now=later(11))
    assert result.counts["offline_questions"] == 1 and result.counts["conversations"] == 0
    assert Conversation.objects.get(pk=asked.pk).anonymised_at is not None
    still = Conversation.objects.get(pk=waiting.pk)
    assert still.anonymised_at is None and still.subject == "Masih menunggu" and still.patron is not None


def test_a_childs_chat_goes_after_the_shorter_period(identity, make_identity, librarian, colleague, library):
    child = full_chat(identity=identity, librarian=librarian, colleague=colleague)
    Conversation.objects.filter(pk=child.pk).update(age_group=AgeGroup.CHILD)
    adult = offline_question(identity=make_identity())
    result = apply_retention(now=later(library.child_retention_days + 1))
    assert result.counts["children"] == 1
    assert Conversation.objects.get(pk=child.pk).anonymised_at is not None
    assert Conversation.objects.get(pk=adult.pk).anonymised_at is None


def test_another_librarys_periods_apply_to_its_own_chats_only(old_chat, library, site):
    other = Library.objects.create(name="Perpustakaan Sekolah", retention_days=1)
    result = apply_retention(now=later(2), libraries=[other])
    assert result.counts["conversations"] == 0
    assert Conversation.objects.get(pk=old_chat.pk).anonymised_at is None


def test_search_logs_revisions_and_the_audit_trail_expire(old_chat, library):
    miss = FaqSearchMiss.objects.create(key="jam buka", query="jam buka")
    entry = FaqEntry.objects.get()
    assert entry.revisions.count() == 1
    entry.answer += " (diperbarui)"
    entry.save()
    FaqRevision.objects.create(entry=entry, action="edit", question=entry.question, answer=entry.answer,
                               status=entry.status)
    AuditEvent.objects.create(actor="someone", action=AuditEvent.Action.VIEW_TRANSCRIPT, library=library)
    result = apply_retention(now=later(731))
    assert not FaqSearchMiss.objects.filter(pk=miss.pk).exists()
    assert entry.revisions.count() == 1 and result.counts["faq_revisions"] == 1  # the newest stays
    assert result.counts["audit_events"] >= 1
    assert not AuditEvent.objects.filter(actor="someone").exists()


def test_a_second_run_finds_nothing_more(old_chat, library):
    apply_retention(now=later(400))
    again = apply_retention(now=later(400))
    assert not any(again.counts.values())


def test_the_command_prints_what_it_did_and_a_dry_run(old_chat, capsys):
    call_command("apply_retention", "--dry-run")
    out = capsys.readouterr().out
    assert "Dry run" in out and "0  chats anonymised" in out
    call_command("apply_retention")
    assert "Done" in capsys.readouterr().out


def test_the_october_style_day_boundaries_do_not_matter_to_retention(old_chat):
    # Periods are whole days from the moment a thing was made, not calendar days.
    created = Conversation.objects.get(pk=old_chat.pk).created_at
    apply_retention(now=created + dt.timedelta(days=365) - dt.timedelta(seconds=1))
    assert Conversation.objects.get(pk=old_chat.pk).anonymised_at is None
    apply_retention(now=created + dt.timedelta(days=365, seconds=1))
    assert Conversation.objects.get(pk=old_chat.pk).anonymised_at is not None


def test_an_anonymised_question_can_no_longer_be_answered_rated_or_surveyed(make_identity, library, librarian):
    from reference import feedback, lifecycle, offline_questions, surveys
    from reference.errors import ServiceError

    asked = offline_question(identity=make_identity())
    link = surveys.link_token(asked.pk)
    apply_retention(now=later(library.offline_retention_days + 1))
    assert asked.pk not in [c.pk for c in offline_questions.waiting_questions(asked.site.library)]
    with pytest.raises(ServiceError) as refused:
        lifecycle.do_answer_offline_question(user=librarian, conversation_id=asked.pk, text="Buka jam 9")
    assert refused.value.code == "anonymised"
    with pytest.raises(ServiceError):
        surveys.conversation_from_link(link)
    with pytest.raises(ServiceError):
        feedback.do_rate(patron_id=None, conversation_id=asked.pk, rating=5)

"""bench/year_of_data.py at a small size, and bench/reports.py's URL handling: the reports benchmark
is only worth its figures if the year it measures is shaped and stamped the way the service writes it."""

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Count, F, Max, Min
from django.utils import timezone

from bench import reports, year_of_data
from reference.models import Conversation, DutySpell, FaqActivity, FaqEntry, Message, Transfer

SMALL = ["--conversations", "300", "--messages", "3000", "--days", "30", "--batch", "100"]


@pytest.fixture
def small_year(db, capsys):
    year_of_data.main(SMALL)
    return capsys.readouterr().out


def test_the_counts_and_shares_asked_for(small_year):
    assert Conversation.objects.count() == 300
    assert Message.objects.count() == 3000
    assert Conversation.objects.filter(librarian__isnull=True, closed_by_role="system").count() == 24  # 8 %
    assert Conversation.objects.filter(is_offline=True).count() == 15  # 5 %
    assert Transfer.objects.filter(status=Transfer.Status.ACCEPTED).count() == 12  # 4 %
    assert Conversation.objects.filter(first_assigned_at__isnull=False, first_response_at__isnull=True).count() == 9
    assert DutySpell.objects.exists() and FaqActivity.objects.exists()
    assert FaqEntry.objects.filter(status=FaqEntry.Status.PUBLISHED).count() == 200
    assert "kepala-layanan / laporan-setahun-2026" in small_year


def test_the_generated_times_are_stored_not_the_time_of_the_load(small_year):
    now = timezone.now()
    span = Conversation.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    assert now - timedelta(days=31) <= span["first"] < span["last"] < now - timedelta(hours=4)
    assert span["last"] - span["first"] > timedelta(days=20)
    assert not Message.objects.filter(seq=1).exclude(created_at=F("conversation__created_at")).exists()
    assert not Message.objects.filter(created_at__gt=now - timedelta(hours=1)).exists()
    assert not Transfer.objects.filter(created_at__gt=now - timedelta(hours=1)).exists()


def test_each_conversation_is_consistent(small_year):
    assert not Conversation.objects.filter(first_assigned_at__lt=F("created_at")).exists()
    assert not Conversation.objects.filter(first_response_at__lt=F("first_assigned_at")).exists()
    assert not Conversation.objects.filter(is_offline=False, closed_at__lt=F("first_response_at")).exists()
    assert not Conversation.objects.exclude(status=Conversation.Status.CLOSED).exists()
    seqs = Conversation.objects.annotate(n=Count("messages"), top=Max("messages__seq"))
    assert all(c.n == c.top == c.last_seq for c in seqs)
    for conversation in Conversation.objects.filter(first_response_at__isnull=False):
        first_reply = conversation.messages.filter(role="librarian").order_by("seq").first()
        assert first_reply.created_at == conversation.first_response_at
        assert first_reply.author_id == (conversation.transfers.first().from_user_id
                                         if conversation.transfers.exists() else conversation.librarian_id)
    for transfer in Transfer.objects.select_related("conversation"):
        assert transfer.from_user_id != transfer.to_user_id == transfer.conversation.librarian_id


def test_the_manager_may_see_and_export_everything(small_year):
    manager = get_user_model().objects.get(username=year_of_data.MANAGER_USERNAME)
    assert manager.is_staff and manager.check_password(year_of_data.MANAGER_PASSWORD)
    assert manager.has_perm("reference.view_desk_reports") and manager.has_perm("reference.export_personal_data")
    librarian = get_user_model().objects.get(username="pustakawan-01")
    assert not librarian.has_perm("reference.view_desk_reports")


def test_a_database_that_holds_conversations_is_refused(small_year):
    with pytest.raises(SystemExit, match="already holds conversations"):
        year_of_data.main(SMALL)
    assert Conversation.objects.count() == 300


@pytest.mark.parametrize("argv", [["--conversations", "50"], ["--conversations", "1000", "--messages", "3999"],
                                  ["--days", "3"]])
def test_bad_sizes_are_refused(argv):
    with pytest.raises(SystemExit):
        year_of_data.parse_args(argv)


def test_periods_are_the_last_365_days_and_the_last_full_month():
    assert reports.periods(date(2026, 12, 3)) == {"year": (date(2025, 12, 4), date(2026, 12, 3)),
                                                  "month": (date(2026, 11, 1), date(2026, 11, 30))}
    assert reports.periods(date(2026, 1, 15))["month"] == (date(2025, 12, 1), date(2025, 12, 31))


def test_export_links_are_found_on_the_report_page():
    page = """<a href="/staff/reports/export/volume.csv?start=2026-01-01&amp;end=2026-01-31">CSV</a>
              <a href="/staff/transcripts/">Transcripts</a>
              <a href="/staff/reports/export/speed.csv?start=2026-01-01">CSV</a>
              <a href="/staff/reports/export/volume.csv?queue=2">CSV again</a>"""
    assert reports.export_paths(page) == ["/staff/reports/export/volume.csv", "/staff/reports/export/speed.csv"]
    assert reports.with_query("/staff/reports/", "start=x") == "/staff/reports/?start=x"
    assert reports.with_query("/a/?b=1", "start=x") == "/a/?b=1&start=x"

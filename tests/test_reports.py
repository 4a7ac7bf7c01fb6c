"""Report figures against a hand-counted October (reference.reports.figures), and the report page.

The fixture holds the cases that make reports lie: a chat that runs past midnight on the last day
of the month, a handed-off chat, a patron who left the queue and came back, a chat a librarian
took and never answered, an offline question, chats either side of the period's edges in the
library's time zone (Asia/Jakarta, UTC+7), and one still open.
"""

import datetime as dt
import zoneinfo

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone, translation

from reference.models import (
    Conversation,
    DutySpell,
    FaqActivity,
    FaqEntry,
    Library,
    Patron,
    SurveyAnswer,
    SurveyQuestion,
    Topic,
    Transfer,
)
from reference.reports import figures, filters, tables

pytestmark = pytest.mark.django_db
# The report views read on a thread of their own (reference.dbthreads.apart), which sees only
# committed data: tests that open them over HTTP commit their fixtures.
HTTP = pytest.mark.django_db(transaction=True)

JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")
UTC = dt.UTC


def local(*args):
    return dt.datetime(*args, tzinfo=JAKARTA)


@pytest.fixture
def october(site, queue, make_librarian):
    """The hand-counted month. Returns the people and chats by letter."""
    Library.objects.filter(pk=site.library_id).update(time_zone="Asia/Jakarta")
    siti, budi = make_librarian("siti", "Siti"), make_librarian("budi", "Budi")
    katalog = Topic.objects.create(library_id=site.library_id, label_id="Katalog", label_en="Catalogue")
    jam = Topic.objects.create(library_id=site.library_id, label_id="Jam buka", label_en="Opening hours")
    came_back = Patron.objects.create(site=site, name="Rina")

    def chat(created, *, taken=None, responded=None, closed=None, librarian=None, offline=False, rating=None,
             read=None, qtype="", patron=None, topics=(), comment=""):
        at = lambda seconds: None if seconds is None else created + dt.timedelta(seconds=seconds)  # noqa: E731
        status = "closed" if closed is not None else "active" if librarian else "queued"
        conversation = Conversation.objects.create(
            patron=patron or Patron.objects.create(site=site), site=site, queue=queue, subject="?", status=status,
            librarian=librarian, is_offline=offline, first_assigned_at=at(taken), assigned_at=at(taken),
            first_response_at=at(responded), closed_at=at(closed), rating=rating, rating_comment=comment,
            rated_at=at(closed) if rating else None, read_scale=read, question_type=qtype)
        Conversation.objects.filter(pk=conversation.pk).update(created_at=created)
        conversation.topics.set(topics)
        return conversation

    chats = {
        "A": chat(local(2026, 10, 5, 10, 0), taken=60, responded=120, closed=600, librarian=siti, rating=5, read=2,
                  qtype="ready_reference", topics=[katalog, jam], comment="Sangat membantu"),
        "B": chat(local(2026, 10, 31, 23, 50), taken=300, responded=360, closed=1800, librarian=budi, rating=4,
                  read=3, qtype="research", topics=[katalog]),
        "C": chat(local(2026, 10, 5, 10, 30), closed=200, patron=came_back),
        "D": chat(local(2026, 10, 5, 10, 40), taken=30, responded=90, closed=900, librarian=siti, patron=came_back),
        "E": chat(local(2026, 10, 6, 14, 0), taken=120, responded=150, closed=1200, librarian=budi, rating=3),
        "F": chat(local(2026, 10, 7, 9, 0), taken=40, closed=100, librarian=budi),
        "G": chat(local(2026, 10, 8, 20, 0), responded=7200, closed=7200, librarian=siti, offline=True),
        "H": chat(dt.datetime(2026, 9, 30, 17, 30, tzinfo=UTC), taken=10, responded=20, closed=60, librarian=siti),
        "I": chat(dt.datetime(2026, 10, 31, 17, 30, tzinfo=UTC), taken=10, responded=20, closed=60, librarian=siti),
        "J": chat(dt.datetime(2026, 9, 30, 16, 59, tzinfo=UTC), taken=100, responded=200, closed=400, librarian=siti,
                  rating=2),
        "K": chat(local(2026, 10, 20, 12, 0), taken=50, librarian=siti),
    }
    Transfer.objects.create(conversation=chats["E"], from_user=siti, to_user=budi, status="accepted")
    Transfer.objects.create(conversation=chats["A"], from_user=siti, to_user=budi, status="declined")
    DutySpell.objects.create(user=siti, started_at=dt.datetime(2026, 10, 5, 1, tzinfo=UTC),
                             ended_at=dt.datetime(2026, 10, 5, 5, tzinfo=UTC))
    DutySpell.objects.create(user=siti, started_at=dt.datetime(2026, 9, 30, 15, tzinfo=UTC),
                             ended_at=dt.datetime(2026, 9, 30, 19, tzinfo=UTC))  # 2 of its 4 hours in October
    DutySpell.objects.create(user=budi, started_at=local(2026, 10, 31, 22, 0), ended_at=local(2026, 11, 1, 1, 0))
    helped = SurveyQuestion.objects.create(site=site, position=1, kind="yes_partly_no", text_id="Terbantu?",
                                           text_en="Did it help?")
    wish = SurveyQuestion.objects.create(site=site, position=2, kind="text", text_id="Saran?", text_en="Ideas?")
    SurveyAnswer.objects.create(conversation=chats["A"], question=helped, choice="yes")
    SurveyAnswer.objects.create(conversation=chats["B"], question=helped, choice="partly")
    SurveyAnswer.objects.create(conversation=chats["J"], question=helped, choice="no")  # September
    SurveyAnswer.objects.create(conversation=chats["B"], question=wish, text="Buka sampai malam")
    entry = FaqEntry.objects.create(slug="jam-buka", question="Jam buka?", answer="<p>08.00</p>", status="published")
    for hour, kind, count, extra in [
        (dt.datetime(2026, 10, 2, 3, tzinfo=UTC), "search", 10, {}),
        (dt.datetime(2026, 10, 2, 3, tzinfo=UTC), "miss", 3, {}),
        (dt.datetime(2026, 10, 2, 4, tzinfo=UTC), "answered", 2, {"entry": entry, "site": site}),
        (dt.datetime(2026, 10, 2, 4, tzinfo=UTC), "view", 5, {"entry": entry}),
        (dt.datetime(2026, 10, 31, 17, tzinfo=UTC), "search", 4, {}),  # 00:00 on 1 November in Jakarta
    ]:
        FaqActivity.objects.create(hour=hour, kind=kind, count=count, **extra)
    return {"siti": siti, "budi": budi, "site": site, "queue": queue, "chats": chats}


def october_query(user, **extra):
    form, query = filters.report_query(user, {"start": "2026-10-01", "end": "2026-10-31", **extra})
    assert query is not None, form.errors
    return query


@pytest.fixture
def manager(django_user_model):
    user = django_user_model.objects.create_user("kepala", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_desk_reports"))
    return django_user_model.objects.get(pk=user.pk)  # permissions are cached per instance


def test_volume_counts_each_chat_once_on_the_day_it_started(october, manager):
    report = figures.build_report(october_query(manager))
    h = report.headline
    assert (h.started, h.answered, h.abandoned, h.unanswered, h.still_open) == (8, 5, 1, 1, 1)
    assert (h.offline, h.offline_answered, h.transferred) == (1, 1, 1)
    by_day = {row[0]: row[1:] for row in report.by_day}
    assert len(by_day) == 31
    assert by_day[dt.date(2026, 10, 1)] == (1, 1, 0, 0)  # H: 00:30 in Jakarta, still 30 September in UTC
    assert by_day[dt.date(2026, 10, 5)] == (3, 2, 1, 0)  # A, and the patron who left (C) and came back (D)
    assert by_day[dt.date(2026, 10, 8)] == (0, 0, 0, 1)  # the offline question
    assert by_day[dt.date(2026, 10, 31)] == (1, 1, 0, 0)  # B ran past midnight into November
    assert sum(row[1] for row in report.by_day) == 8


def test_speed_is_nearest_rank(october, manager):
    h = figures.build_report(october_query(manager)).headline
    assert (h.speed("wait", .5), h.speed("wait", .9)) == (50, 300)
    assert (h.speed("first_response", .5), h.speed("first_response", .9)) == (120, 360)
    assert (h.speed("duration", .5), h.speed("duration", .9)) == (870, 1500)


def test_the_previous_period_is_as_long_and_just_before(october, manager):
    query = october_query(manager)
    assert (query.previous().start, query.previous().end) == (dt.date(2026, 8, 31), dt.date(2026, 9, 30))
    previous = figures.build_report(query).previous
    assert (previous.started, previous.answered, previous.rating_average) == (1, 1, 2.0)  # J, 23:59 on 30 September


def test_heatmap_is_by_weekday_and_hour_in_the_library_time_zone(october, manager):
    grid = figures.build_report(october_query(manager)).heatmap
    assert grid[0][10] == 3 and grid[3][0] == 1 and grid[3][20] == 1 and grid[5][23] == 1
    assert grid[1][14] == 1 and grid[1][12] == 1 and grid[2][9] == 1
    assert sum(map(sum, grid)) == 9


def test_quality_and_effort(october, manager):
    report = figures.build_report(october_query(manager))
    assert report.headline.rating_average == 4.0
    assert dict(report.rating_counts) == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    assert report.read_counts[2] == 1 and report.read_counts[3] == 1 and report.read_counts[None] == 3
    assert [n for _label, n in report.question_types] == [0, 1, 1, 0, 0]  # directional, ready reference, research…
    assert [(topic.label_id, n) for topic, n in report.topics] == [("Katalog", 2), ("Jam buka", 1)]
    assert report.comments == [(october["chats"]["A"].pk, 5, "Sangat membantu", october["chats"]["A"].rated_at)]


def test_survey_answers_of_the_period(october, manager):
    report = figures.build_report(october_query(manager))
    with translation.override("en"):
        by_name = {table.name: table for table in tables.build_tables(report)}
    assert by_name["survey"].rows == [["Did it help?", "Yes", 1], ["Did it help?", "Partly", 1],
                                      ["Did it help?", "No", 0]]  # J's "no" was in September
    texts = by_name["survey_texts"]
    assert [row[:3] for row in texts.rows] == [[f"#{october['chats']['B'].pk}", "Ideas?", "Buka sampai malam"]]
    assert texts.links == [f"/staff/transcripts/{october['chats']['B'].pk}/"]


def test_a_transferred_chat_counts_once_for_who_finished_it_and_for_both_in_workload(october, manager):
    librarians = {f.name: f for f in figures.build_report(october_query(manager)).librarians}
    siti, budi = librarians["Siti"], librarians["Budi"]
    assert (siti.handled, siti.handed_on, siti.workload, siti.rating_average) == (4, 1, 5, 5.0)  # A, D, G, H + E
    assert (budi.handled, budi.handed_on, budi.workload, budi.rating_average) == (3, 0, 3, 3.5)  # B, E, F
    assert siti.duty_hours == 6.0 and budi.duty_hours == 2.0  # budi's shift ran into 1 November


def test_faq_use_against_chats_started(october, manager):
    h = figures.build_report(october_query(manager)).headline
    assert (h.faq["search"], h.faq["miss"], h.faq["answered"], h.faq["view"]) == (10, 3, 2, 5)
    assert h.answered_by_faq_share == round(100 * 2 / (2 + 8 + 1), 1)


def test_filters_narrow_the_conversations(october, manager, other_queue):
    assert figures.build_report(october_query(manager, librarian=october["budi"].pk)).headline.started == 3
    assert figures.build_report(october_query(manager, queue=other_queue.pk)).headline.started == 0
    assert figures.build_report(october_query(manager, site=october["site"].pk)).headline.started == 8


def test_without_the_manager_permission_a_librarian_gets_their_own_figures(october):
    siti = october["siti"]
    query = october_query(siti, librarian=october["budi"].pk)  # asking for a colleague changes nothing
    assert query.own_figures_only and query.librarian == siti
    report = figures.build_report(query)
    assert report.headline.started == 4  # A, D, H, K
    assert [f.name for f in report.librarians] == ["Siti"]


@HTTP
@pytest.mark.parametrize("params, message", [
    ({"start": "2026-10-31", "end": "2026-10-01"}, "must not be after"),
    ({"start": "2024-01-01", "end": "2026-10-01"}, "at most 731 days"),
    ({"start": "kemarin"}, "valid date"),
    ({"queue": "999999"}, "no such queue"),
    ({"librarian": "999999"}, "no such librarian"),
    ({"site": "abc"}, "no such widget site"),
    ({"start": "2999-01-01", "end": "2999-01-02"}, "in the future"),
])
def test_bad_filters_are_refused_with_a_reason(client, manager, site, params, message, settings):
    settings.LANGUAGE_CODE = "en"
    client.force_login(manager)
    response = client.get("/staff/reports/", params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "report-summary" not in response.content.decode()


@HTTP
def test_the_page_shows_figures_charts_and_tables(client, october, manager):
    client.force_login(manager)
    response = client.get("/staff/reports/", {"start": "2026-10-01", "end": "2026-10-31"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('<svg class="chart') >= 4
    for table in tables.build_tables(response.context["report"]):
        assert f'id="{table.name}-heading"' in page
    assert f'href="/staff/transcripts/{october["chats"]["A"].pk}/"' in page  # the comment links its transcript
    assert 'name="librarian"' in page


@HTTP
def test_a_librarian_without_the_permission_has_no_librarian_filter(client, october):
    client.force_login(october["siti"])
    page = client.get("/staff/reports/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'name="librarian"' not in page
    assert "These are your own figures" in page


def test_reports_are_for_staff_only(client, django_user_model, site):
    assert client.get("/staff/reports/").status_code == 302
    client.force_login(django_user_model.objects.create_user("pemustaka", password="pw"))
    assert client.get("/staff/reports/").status_code == 302


@HTTP
def test_a_year_of_days_fits_the_period_and_empty_periods_draw(client, manager, site):
    client.force_login(manager)
    today = timezone.now().astimezone(JAKARTA).date()
    response = client.get("/staff/reports/", {"start": (today - dt.timedelta(days=364)).isoformat()})
    assert response.status_code == 200
    assert len(response.context["report"].by_day) == 365


# ---- the monthly summary

@pytest.fixture
def subscribed(october, manager):
    from reference.models import LibrarianProfile
    manager.email = "kepala@perpustakaan.example"
    manager.save()
    LibrarianProfile.objects.create(user=manager, display_name="Kepala", monthly_summary=True)
    october["siti"].email = "siti@perpustakaan.example"
    october["siti"].save()
    LibrarianProfile.objects.filter(user=october["siti"]).update(monthly_summary=True)
    LibrarianProfile.objects.filter(user=october["budi"]).update(monthly_summary=True)  # no e-mail address
    return october


def test_the_monthly_summary_goes_once_to_those_who_asked(subscribed, mailoutbox, settings):
    from django.core.management import call_command

    from reference.reports.summary import do_send_monthly_summaries
    settings.LANGUAGE_CODE = "en"
    now = dt.datetime(2026, 11, 1, 0, 30, tzinfo=JAKARTA)  # just after October ended in Jakarta
    assert do_send_monthly_summaries(now=now) == 2
    by_address = {mail.to[0]: mail for mail in mailoutbox}
    desk = by_address["kepala@perpustakaan.example"]
    assert "October 2026" in desk.subject
    assert "- Chats started: 8 (before: 1, +700.0%)" in desk.body  # September had only J
    assert "- Abandoned while waiting: 1 (before: 0)" in desk.body
    assert "/staff/reports/?start=2026-10-01&end=2026-10-31" in desk.body
    assert "<table" in desk.alternatives[0][0]
    own = by_address["siti@perpustakaan.example"]
    assert "Your figures for October 2026" in own.body and "- Chats started: 4 (before: 1" in own.body

    assert do_send_monthly_summaries(now=now) == 0  # a scheduler that runs twice sends once
    call_command("send_monthly_summary", "--month", "2026-10", "--force")
    assert len(mailoutbox) == 4


def test_the_command_refuses_a_bad_month(db):
    from django.core.management import CommandError, call_command
    with pytest.raises(CommandError, match="2026-11"):
        call_command("send_monthly_summary", "--month", "November")


@HTTP
def test_staff_ask_for_the_summary_on_the_report_page(client, manager, site):
    from reference.models import LibrarianProfile
    client.force_login(manager)
    response = client.post("/staff/reports/monthly-summary", {"monthly_summary": "on", "query": "start=2026-10-01"},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"].startswith("/staff/reports/?start=2026-10-01")
    assert LibrarianProfile.objects.get(user=manager).monthly_summary
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "once your account has an e-mail address" in page  # no address yet: said, not hidden
    client.post("/staff/reports/monthly-summary", {"query": "https://evil.example/"})
    assert not LibrarianProfile.objects.get(user=manager).monthly_summary
    assert client.get("/staff/reports/monthly-summary").status_code == 405


def test_only_staff_change_the_summary(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("pemustaka", password="pw"))
    assert client.post("/staff/reports/monthly-summary", {"monthly_summary": "on"}).status_code == 302
    assert not django_user_model.objects.filter(librarian_profile__monthly_summary=True).exists()


# ---- the tables as CSV

def _csv(response):
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return b"".join(response.streaming_content).decode("utf-8")


@HTTP
def test_every_table_downloads_as_spreadsheet_safe_csv(client, october, manager):
    Conversation.objects.filter(pk=october["chats"]["A"].pk).update(rating_comment="=HYPERLINK(\"http://x\")")
    client.force_login(manager)
    period = {"start": "2026-10-01", "end": "2026-10-31"}
    page = client.get("/staff/reports/", period)
    names = [table.name for table, _chart in page.context["sections"]]
    for name in names:
        body = _csv(client.get(f"/staff/reports/export/{name}.csv", period))
        assert body.startswith("\ufeff") and body.endswith("\r\n"), name
    daily = _csv(client.get("/staff/reports/export/daily.csv", period)).splitlines()
    assert len(daily) == 32 and "2026-10-05,3,2,1,0" in daily
    comments = _csv(client.get("/staff/reports/export/comments.csv", period))
    assert f'#{october["chats"]["A"].pk},5,"\'=HYPERLINK(""http://x"")"' in comments  # never run as a formula
    assert 'filename="ruang-tanya-daily-20261001-20261031.csv"' in client.get(
        "/staff/reports/export/daily.csv", period)["Content-Disposition"]


@HTTP
def test_a_table_download_refuses_bad_input(client, manager, site):
    client.force_login(manager)
    response = client.get("/staff/reports/export/daily.csv", {"start": "2026-10-31", "end": "2026-10-01"},
                          HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "must not be after" in response.content.decode()
    assert client.get("/staff/reports/export/nonsense.csv").status_code == 404


@HTTP
def test_a_librarian_downloads_only_their_own_row(client, october):
    client.force_login(october["budi"])
    rows = _csv(client.get("/staff/reports/export/librarians.csv",
                           {"start": "2026-10-01", "end": "2026-10-31", "librarian": october["siti"].pk})).splitlines()
    assert len(rows) == 2 and rows[1].startswith("Budi,3,3,0,3.5,")

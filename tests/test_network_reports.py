"""The network's cover report (reference.reports.network): figures per home/covering pair and per
covering librarian, who may read which rows, the page and its CSV."""

import csv
import datetime as dt
import io
import zoneinfo
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from reference.models import AuditEvent, Conversation, LibrarianProfile, Library, Message, Patron, Queue, Role
from reference.reports import network
from widgets.models import Site

User = get_user_model()
JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")
PERIOD = {"start": "2026-10-01", "end": "2026-10-31"}
HTTP = pytest.mark.django_db(transaction=True)  # the views read on their own database thread


def local(*args):
    return dt.datetime(*args, tzinfo=JAKARTA)


def _library(name):
    library = Library.objects.create(name=name, time_zone="Asia/Jakarta")
    queue = Queue.objects.create(library=library, name=f"{name} umum", slug=f"{library.slug}-umum")
    site = Site.objects.create(name=f"{name} web", key=f"{library.slug}-key", library=library, default_queue=queue)
    return SimpleNamespace(library=library, queue=queue, site=site)


def _person(username, library, *, perms=(), others=()):
    user = User.objects.create_user(username, password=None, is_staff=True)
    profile = LibrarianProfile.objects.create(user=user, library=library, display_name=username.title())
    profile.other_libraries.set(others)
    user.user_permissions.set([Permission.objects.get(codename=codename) for codename in perms])
    return User.objects.get(pk=user.pk)  # without the permission cache


def _chat(place, created, *, covering=None, taken=None, responded=None, writers=()):
    at = lambda seconds: None if seconds is None else created + dt.timedelta(seconds=seconds)  # noqa: E731
    chat = Conversation.objects.create(
        patron=Patron.objects.create(site=place.site), site=place.site, queue=place.queue, subject="?",
        status="closed", covering_library=covering, first_assigned_at=at(taken), assigned_at=at(taken),
        first_response_at=at(responded), closed_at=at(900))
    Conversation.objects.filter(pk=chat.pk).update(created_at=created)
    for seq, writer in enumerate(writers, 1):
        Message.objects.create(conversation=chat, seq=seq, role=Role.LIBRARIAN, author=writer, text="Halo")
    return chat


@pytest.fixture
def covered(db):
    """Hand-counted October: Bandung covers Cimahi and Depok, Cimahi covers Bandung."""
    bandung, cimahi, depok = _library("Bandung"), _library("Cimahi"), _library("Depok")
    ani = _person("ani", bandung.library)
    asep = _person("asep", depok.library, others=[bandung.library])  # also works for Bandung
    citra = _person("citra", cimahi.library)
    home_cimahi = _person("cepi", cimahi.library)
    # Bandung covering Cimahi: three chats, two answered; waits 60, 120, 600 → median 120
    _chat(cimahi, local(2026, 10, 2, 20), covering=bandung.library, taken=60, responded=90, writers=[ani])
    _chat(cimahi, local(2026, 10, 3, 20), covering=bandung.library, taken=120, responded=150,
          writers=[asep, asep, home_cimahi])  # handed back: Cepi wrote too, he is Cimahi's own
    _chat(cimahi, local(2026, 10, 4, 20), covering=bandung.library, taken=600)
    # Bandung covering Depok: one, answered by Ani
    _chat(depok, local(2026, 10, 9, 20), covering=bandung.library, taken=30, responded=40, writers=[ani])
    # Cimahi covering Bandung: one answered by Citra
    _chat(bandung, local(2026, 10, 10, 22), covering=cimahi.library, taken=240, responded=300, writers=[citra])
    # not counted: not covered, before the period, after it
    _chat(cimahi, local(2026, 10, 5, 10), taken=10, responded=20, writers=[citra])
    _chat(cimahi, local(2026, 9, 30, 23, 59), covering=bandung.library, taken=10, responded=20, writers=[ani])
    _chat(cimahi, local(2026, 11, 1, 0, 0), covering=bandung.library, taken=10, responded=20, writers=[ani])
    return SimpleNamespace(bandung=bandung, cimahi=cimahi, depok=depok, ani=ani, asep=asep, citra=citra)


def _query(library=None):
    return network.NetworkQuery(start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31), time_zone="Asia/Jakarta",
                                library=library)


def test_figures_per_pair_and_per_covering_librarian(covered):
    pairs = [(p.home, p.covering, p.covered, p.answered, p.median_wait) for p in network.pairs(_query())]
    assert pairs == [("Bandung", "Cimahi", 1, 1, 240), ("Cimahi", "Bandung", 3, 2, 120),
                     ("Depok", "Bandung", 1, 1, 30)]
    assert network.covering_librarians(_query()) == [
        ("Bandung", "Ani", "Cimahi", 1), ("Bandung", "Ani", "Depok", 1), ("Bandung", "Asep", "Cimahi", 1),
        ("Cimahi", "Citra", "Bandung", 1)]
    table = network.pairs_table(_query())
    assert table.rows[1] == ["Cimahi", "Bandung", 3, 2, 2.0]  # minutes


def test_one_librarys_rows_are_those_it_is_in(covered):
    depok = _query(covered.depok.library)
    assert [(p.home, p.covering) for p in network.pairs(depok)] == [("Depok", "Bandung")]
    assert network.covering_librarians(depok) == [("Bandung", "Ani", "Depok", 1)]
    cimahi = _query(covered.cimahi.library)
    assert [(p.home, p.covering) for p in network.pairs(cimahi)] == [("Bandung", "Cimahi"), ("Cimahi", "Bandung")]


@HTTP
def test_a_network_reader_sees_every_pair(client, covered):
    reader = _person("nadia", covered.depok.library, perms=["view_network_reports"])
    client.force_login(reader)
    page = client.get(reverse("reports:network"), PERIOD, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Chats answered for another library" in text and "Covering librarians" in text
    assert text.count("<tr>") == 1 + 3 + 1 + 4  # two headers, three pairs, four librarians
    assert reverse("reports:page") in text  # the way back to the desk's reports


@HTTP
def test_a_desk_manager_sees_only_the_pairs_of_their_current_library(client, covered):
    manager = _person("dewi", covered.depok.library, perms=["view_desk_reports"])
    client.force_login(manager)
    text = client.get(reverse("reports:network"), PERIOD, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Depok" in text and "Cimahi" not in text and "Citra" not in text and "Asep" not in text


@HTTP
def test_a_superuser_without_a_library_reads_the_network(client, covered):
    client.force_login(User.objects.create_superuser("root", password=None))
    text = client.get(reverse("reports:network"), PERIOD).content.decode()
    assert "Citra" in text and "Depok" in text


@HTTP
def test_others_may_not_read_it(client, covered):
    assert client.get(reverse("reports:network")).status_code == 302  # to the login page
    client.force_login(covered.ani)  # staff, no report permission
    assert client.get(reverse("reports:network")).status_code == 403
    assert client.get(reverse("reports:network_csv", args=["pairs"])).status_code == 403
    visitor = User.objects.create_user("tamu", password=None)
    client.force_login(visitor)
    assert client.get(reverse("reports:network")).status_code == 302


@HTTP
@pytest.mark.parametrize("params, message", [
    ({"start": "2026-10-31", "end": "2026-10-01"}, "“From” must not be after “To”."),
    ({"start": "kemarin"}, "Enter a valid date."),
    ({"start": "2020-01-01", "end": "2026-01-01"}, "A report covers at most"),
])
def test_a_bad_period_is_refused_with_a_reason(client, covered, params, message):
    client.force_login(_person("nadia", covered.depok.library, perms=["view_network_reports"]))
    page = client.get(reverse("reports:network"), params, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 400 and message in page.content.decode()
    download = client.get(reverse("reports:network_csv", args=["pairs"]), params, HTTP_ACCEPT_LANGUAGE="en")
    assert download.status_code == 400 and message in download.content.decode()


def _csv(response):
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


@HTTP
def test_the_tables_download_as_csv(client, covered):
    reader = _person("nadia", covered.depok.library, perms=["view_network_reports"])
    client.force_login(reader)
    pairs = client.get(reverse("reports:network_csv", args=["pairs"]), PERIOD, HTTP_ACCEPT_LANGUAGE="en")
    assert pairs.status_code == 200 and pairs["Content-Type"].startswith("text/csv")
    rows = _csv(pairs)
    assert rows[0] == ["Home library", "Covering library", "Chats covered", "Answered", "Median wait (minutes)"]
    assert rows[1:] == [["Bandung", "Cimahi", "1", "1", "4.0"], ["Cimahi", "Bandung", "3", "2", "2.0"],
                        ["Depok", "Bandung", "1", "1", "0.5"]]
    librarians = _csv(client.get(reverse("reports:network_csv", args=["librarians"]), PERIOD))
    assert len(librarians) == 5
    assert client.get(reverse("reports:network_csv", args=["nothing"]), PERIOD).status_code == 404
    assert AuditEvent.objects.filter(action="export", user=reader).count() == 2


@HTTP
def test_a_desk_managers_csv_holds_only_their_rows(client, covered):
    client.force_login(_person("dewi", covered.depok.library, perms=["view_desk_reports"]))
    rows = _csv(client.get(reverse("reports:network_csv", args=["pairs"]), PERIOD))
    assert rows[1:] == [["Depok", "Bandung", "1", "1", "0.5"]]

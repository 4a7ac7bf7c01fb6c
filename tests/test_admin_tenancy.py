"""The admin as a tenant console (reference.admin): a library's own administrator sees, chooses and
saves only their libraries' objects; the superuser sees everything."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from reference.management.commands.add_library import library_admin_group
from reference.models import (
    AuditEvent,
    CannedReply,
    Conversation,
    CoverAgreement,
    FaqEntry,
    FaqSearchMiss,
    FaqSynonym,
    LibrarianProfile,
    Library,
    Patron,
    PatronBlock,
    Queue,
    Topic,
)
from widgets.models import Site

User = get_user_model()


def _library(tag, name):
    library = Library.objects.create(name=name)
    queue = Queue.objects.create(library=library, name=f"{tag}queue", slug=f"{tag.lower()}-queue")
    site = Site.objects.create(name=f"{tag}site", key=f"{tag.lower()}-key", library=library, default_queue=queue,
                               allowed_origins=f"https://{tag.lower()}.example")
    librarian = User.objects.create_user(f"{tag.lower()}librarian", password=None, is_staff=True)
    profile = LibrarianProfile.objects.create(user=librarian, library=library, display_name=f"{tag}librarian")
    profile.queues.set([queue])
    Topic.objects.create(library=library, label_id=f"{tag}topic", label_en=f"{tag}topic")
    CannedReply.objects.create(library=library, scope="library", title=f"{tag}canned", text_id="Halo")
    FaqEntry.objects.create(library=library, slug=f"{tag.lower()}-faq", question=f"{tag}faqquestion",
                            answer="<p>x</p>", answer_source="x")
    FaqSearchMiss.objects.create(library=library, key=f"{tag}miss", query=f"{tag}missquery", count=1)
    AuditEvent.objects.create(library=library, action="export", actor=f"{tag}auditactor")
    patron = Patron.objects.create(site=site, name=f"{tag}patron")
    chat = Conversation.objects.create(patron=patron, site=site, queue=queue, subject=f"{tag}subject")
    PatronBlock.objects.create(patron=patron, conversation=chat, until=timezone.now() + dt.timedelta(days=1),
                               reason=f"{tag}blockreason")
    return SimpleNamespace(library=library, queue=queue, site=site, librarian=librarian, profile=profile,
                           chat=chat, patron=patron)


@pytest.fixture
def network(db):
    a = _library("Alfa", "Alfalibrary")
    b = _library("Bravo", "Bravolibrary")
    c = _library("Charlie", "Charlielibrary")
    boss = User.objects.create_user("alfaboss", password=None, is_staff=True)
    boss.groups.add(library_admin_group())
    LibrarianProfile.objects.create(user=boss, library=a.library, display_name="Alfaboss")
    root = User.objects.create_superuser("root", password=None)
    a_covers_b = CoverAgreement.objects.create(home=b.library, covering=a.library, policy_notes="Bravonotes")
    a_covers_b.queues.set([b.queue])
    b_covers_a = CoverAgreement.objects.create(home=a.library, covering=b.library, policy_notes="Alfanotes")
    b_covers_a.queues.set([a.queue])
    c_covers_b = CoverAgreement.objects.create(home=b.library, covering=c.library, policy_notes="Charlienotes")
    c_covers_b.queues.set([b.queue])
    return SimpleNamespace(a=a, b=b, c=c, boss=boss, root=root, a_covers_b=a_covers_b, b_covers_a=b_covers_a,
                           c_covers_b=c_covers_b)


@pytest.fixture
def boss_client(client, network):
    client.force_login(network.boss)
    return client


CHANGELISTS = ["reference_library", "reference_queue", "reference_topic", "reference_cannedreply",
               "reference_librarianprofile", "reference_conversation", "reference_patron", "reference_patronblock",
               "reference_auditevent", "reference_faqentry", "reference_faqsearchmiss", "widgets_site", "auth_user"]


@pytest.mark.parametrize("name", CHANGELISTS)
def test_a_library_admin_lists_only_their_librarys_objects(boss_client, name):
    page = boss_client.get(reverse(f"admin:{name}_changelist"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Bravo" not in text and "Charlie" not in text  # not a name, not a filter choice


@pytest.mark.parametrize("name", CHANGELISTS)
def test_the_superuser_lists_every_librarys_objects(client, network, name):
    client.force_login(network.root)
    if name == "auth_user":
        text = client.get(reverse("admin:auth_user_changelist")).content.decode()
        assert "bravolibrarian" in text and "alfalibrarian" in text
        return
    text = client.get(reverse(f"admin:{name}_changelist")).content.decode()
    assert "Bravo" in text and "Alfa" in text


def _objects_of(side):
    return [("reference_library", side.library), ("reference_queue", side.queue), ("widgets_site", side.site),
            ("reference_librarianprofile", side.profile), ("reference_conversation", side.chat),
            ("reference_patron", side.patron), ("auth_user", side.librarian),
            ("reference_topic", Topic.objects.get(library=side.library)),
            ("reference_cannedreply", CannedReply.objects.get(library=side.library)),
            ("reference_faqentry", FaqEntry.objects.get(library=side.library)),
            ("reference_faqsearchmiss", FaqSearchMiss.objects.get(library=side.library)),
            ("reference_auditevent", AuditEvent.objects.get(library=side.library)),
            ("reference_patronblock", PatronBlock.objects.get(patron=side.patron))]


def test_another_librarys_object_is_a_missing_one(boss_client, network):
    for name, obj in _objects_of(network.b):
        url = reverse(f"admin:{name}_change", args=[obj.pk])
        assert boss_client.get(url).status_code == 302, name  # to the admin index: "doesn't exist"
        assert boss_client.post(url, {}).status_code in (302, 403), name  # 403: view-only rights
        delete = reverse(f"admin:{name}_delete", args=[obj.pk])
        assert boss_client.post(delete, {"post": "yes"}).status_code in (302, 403), name  # 403: no one deletes it
    assert Queue.objects.filter(pk=network.b.queue.pk).exists()
    assert FaqEntry.objects.filter(library=network.b.library).exists()
    for name, obj in _objects_of(network.a):
        assert boss_client.get(reverse(f"admin:{name}_change", args=[obj.pk])).status_code == 200, name


def test_add_forms_offer_only_their_librarys_choices(boss_client, network):
    queue_form = boss_client.get(reverse("admin:reference_queue_add")).content.decode()
    assert "Alfalibrary" in queue_form and "Bravolibrary" not in queue_form
    site_form = boss_client.get(reverse("admin:widgets_site_add")).content.decode()
    assert "Alfaqueue" in site_form and "Bravoqueue" not in site_form and "Bravolibrary" not in site_form
    canned_form = boss_client.get(reverse("admin:reference_cannedreply_add")).content.decode()
    assert "alfalibrarian" in canned_form and "bravolibrarian" not in canned_form
    profile_form = boss_client.get(reverse("admin:reference_librarianprofile_add")).content.decode()
    assert "Bravoqueue" not in profile_form and "Bravolibrary" not in profile_form
    faq_form = boss_client.get(reverse("admin:reference_faqentry_add")).content.decode()
    assert "Alfalibrary" in faq_form and "Bravolibrary" not in faq_form


def _queue_data(library, queue_slug="neu", **extra):
    return {"library": library.pk, "name": "Neu", "slug": queue_slug, "description": "", "is_active": "on",
            "routing": "manual", "offer_timeout": "30", "fallback_queue": "", "opening_hours": "",
            "fallback_after": "180", **extra}


def test_saving_into_another_library_is_refused_and_saves_nothing(boss_client, network):
    page = boss_client.post(reverse("admin:reference_queue_add"), _queue_data(network.b.library),
                            HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "Select a valid choice" in page.content.decode()
    assert not Queue.objects.filter(slug="neu").exists()
    # a fallback queue of another library is no choice either
    page = boss_client.post(reverse("admin:reference_queue_add"),
                            _queue_data(network.a.library, fallback_queue=network.b.queue.pk))
    assert page.status_code == 200 and not Queue.objects.filter(slug="neu").exists()
    # a canned reply tied to another library's queue
    data = {"library": network.a.library.pk, "scope": "queue", "queue": network.b.queue.pk, "owner": "",
            "title": "Salah", "text_id": "Halo", "text_en": ""}
    assert boss_client.post(reverse("admin:reference_cannedreply_add"), data).status_code == 200
    assert not CannedReply.objects.filter(title="Salah").exists()
    saved = boss_client.post(reverse("admin:reference_queue_add"), _queue_data(network.a.library))
    assert saved.status_code == 302 and Queue.objects.get(slug="neu").library == network.a.library


def test_a_library_admin_changes_their_library_but_adds_or_deletes_none(boss_client, network):
    assert boss_client.get(reverse("admin:reference_library_add")).status_code == 403
    page = boss_client.get(reverse("admin:reference_library_change", args=[network.a.library.pk])).content.decode()
    assert "deletelink" not in page
    assert boss_client.post(reverse("admin:reference_library_delete", args=[network.a.library.pk]),
                            {"post": "yes"}).status_code == 403
    assert Library.objects.filter(pk=network.a.library.pk).exists()


def test_users_a_library_admin_sees_and_may_hand_out(boss_client, network):
    listed = boss_client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert "alfalibrarian" in listed and "bravolibrarian" not in listed and ">root<" not in listed
    url = reverse("admin:auth_user_change", args=[network.a.librarian.pk])
    form = boss_client.get(url).content.decode()
    assert 'name="is_superuser"' not in form and 'name="user_permissions"' not in form
    # a superuser's page is a missing one
    assert boss_client.get(reverse("admin:auth_user_change", args=[network.root.pk])).status_code == 302
    # a user they add becomes a librarian of their library, and stays theirs
    added = boss_client.post(reverse("admin:auth_user_add"), {
        "username": "alfanew", "password1": "a-long-Passw0rd!", "password2": "a-long-Passw0rd!",
        "usable_password": "true"})
    assert added.status_code == 302
    new = User.objects.get(username="alfanew")
    assert new.librarian_profile.library == network.a.library and not new.is_superuser


def test_a_visiting_librarians_profile_is_read_there_and_changed_at_home(boss_client, network):
    visitor = network.b.profile
    visitor.other_libraries.add(network.a.library)
    url = reverse("admin:reference_librarianprofile_change", args=[visitor.pk])
    page = boss_client.get(url)
    assert page.status_code == 200 and 'name="display_name"' not in page.content.decode()  # read only
    assert boss_client.post(url, {"display_name": "Renamed"}).status_code == 403
    visitor.refresh_from_db()
    assert visitor.display_name == "Bravolibrarian"


def test_saving_a_profile_keeps_links_to_another_librarys_queues(boss_client, network):
    profile = network.a.profile
    profile.queues.add(network.b.queue)
    profile.other_libraries.add(network.b.library)
    url = reverse("admin:reference_librarianprofile_change", args=[profile.pk])
    saved = boss_client.post(url, {"user": profile.user_id, "library": network.a.library.pk,
                                   "display_name": "Alfa renamed", "queues": [network.a.queue.pk],
                                   "max_chats": "4", "status": "available"})
    assert saved.status_code == 302, saved.content.decode()[:3000]
    profile.refresh_from_db()
    assert profile.display_name == "Alfa renamed"
    assert set(profile.queues.all()) == {network.a.queue, network.b.queue}
    assert set(profile.other_libraries.all()) == {network.b.library}


# ---- cover agreements


def test_cover_agreements_a_library_admin_sees(boss_client, network):
    listed = boss_client.get(reverse("admin:reference_coveragreement_changelist"),
                             HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Alfalibrary covers Bravolibrary" in listed and "Bravolibrary covers Alfalibrary" in listed
    assert "Charlielibrary" not in listed
    # home: editable; covering: read only; neither: missing
    home = boss_client.get(reverse("admin:reference_coveragreement_change", args=[network.b_covers_a.pk]))
    assert 'name="policy_notes"' in home.content.decode()
    covering_url = reverse("admin:reference_coveragreement_change", args=[network.a_covers_b.pk])
    covering = boss_client.get(covering_url).content.decode()
    assert "Bravonotes" in covering and 'name="policy_notes"' not in covering
    assert boss_client.post(covering_url, {"policy_notes": "mine now"}).status_code == 403
    other = reverse("admin:reference_coveragreement_change", args=[network.c_covers_b.pk])
    assert boss_client.get(other).status_code == 302


def _agreement(home, covering, queues, **extra):
    return {"home": home.pk, "covering": covering.pk, "queues": [queue.pk for queue in queues],
            "when": "after_hours", "wait_minutes": "5", "hours": "", "starts_on": "", "ends_on": "",
            "policy_notes": "", "is_active": "on", **extra}


@pytest.mark.parametrize("case, message", [
    ("self", "A library cannot cover itself."),
    ("foreign_queue", "Select a valid choice"),  # not even offered
    ("reversed", "The agreement ends before it starts."),
    ("hours", "mon-fri 25:00"),
    ("other_home", "Select a valid choice"),
])
def test_a_bad_cover_agreement_is_refused_and_nothing_saved(boss_client, network, case, message):
    a, b = network.a, network.b
    data = {
        "self": _agreement(a.library, a.library, [a.queue]),
        "foreign_queue": _agreement(a.library, b.library, [a.queue, b.queue]),
        "reversed": _agreement(a.library, b.library, [a.queue], starts_on="2026-12-10", ends_on="2026-12-01"),
        "hours": _agreement(a.library, b.library, [a.queue], hours="mon-fri 25:00"),
        "other_home": _agreement(b.library, network.c.library, [a.queue]),
    }[case]
    before = CoverAgreement.objects.count()
    page = boss_client.post(reverse("admin:reference_coveragreement_add"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert message in page.content.decode()
    assert CoverAgreement.objects.count() == before


def test_only_the_home_librarys_queues_are_covered(client, network):
    client.force_login(network.root)
    data = _agreement(network.a.library, network.c.library, [network.a.queue, network.b.queue])
    page = client.post(reverse("admin:reference_coveragreement_add"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Only the home library&#x27;s queues can be covered, not: Bravoqueue" in page.content.decode()
    assert not CoverAgreement.objects.filter(covering=network.c.library, home=network.a.library).exists()


def test_a_library_admin_asks_any_library_to_cover_theirs(boss_client, network):
    form = boss_client.get(reverse("admin:reference_coveragreement_add")).content.decode()
    assert "Charlielibrary" in form  # covering: any library of the network
    saved = boss_client.post(reverse("admin:reference_coveragreement_add"),
                             _agreement(network.a.library, network.c.library, [network.a.queue], when="waiting",
                                        wait_minutes="10", hours="mon-fri 16:00-21:00", starts_on="2026-12-01",
                                        ends_on="2027-06-30"))
    assert saved.status_code == 302
    agreement = CoverAgreement.objects.get(home=network.a.library, covering=network.c.library)
    assert list(agreement.queues.all()) == [network.a.queue] and agreement.wait_minutes == 10


def test_the_superuser_sees_every_agreement(client, network):
    client.force_login(network.root)
    listed = client.get(reverse("admin:reference_coveragreement_changelist"),
                        HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Charlielibrary covers Bravolibrary" in listed


# ---- the network-wide FAQ lists


def test_the_shared_faq_lists_are_read_only_for_a_library_admin(boss_client, network):
    synonym = FaqSynonym.objects.first()
    assert boss_client.get(reverse("admin:reference_faqsynonym_changelist")).status_code == 200
    assert boss_client.get(reverse("admin:reference_faqsynonym_add")).status_code == 403
    assert boss_client.post(reverse("admin:reference_faqsynonym_change", args=[synonym.pk]),
                            {"words": "x, y", "is_active": "on"}).status_code == 403


# ---- widget sites


def _site_data(site, **extra):
    return {"name": site.name, "library": site.library_id, "key": site.key, "allowed_origins": site.allowed_origins,
            "default_queue": site.default_queue_id, "greeting": "", "is_active": "on", "name_field": "optional",
            "email_field": "optional", "card_field": "hidden", "queue_field": "optional", "age_group_field": "hidden",
            "privacy_notice": "", "invite_after": "", "offline_survey_percent": "20",
            "survey_questions-TOTAL_FORMS": "0", "survey_questions-INITIAL_FORMS": "0", **extra}


def test_a_library_admin_saves_their_site_and_only_with_their_queues(boss_client, network):
    site = network.a.site
    url = reverse("admin:widgets_site_change", args=[site.pk])
    refused = boss_client.post(url, _site_data(site, default_queue=network.b.queue.pk), HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    saved = boss_client.post(url, _site_data(site, greeting="Selamat datang"))
    assert saved.status_code == 302
    site.refresh_from_db()
    assert site.greeting == "Selamat datang"


def test_a_site_sends_chats_only_to_its_own_librarys_queues(client, network):
    client.force_login(network.root)
    site = network.a.site
    url = reverse("admin:widgets_site_change", args=[site.pk])
    page = client.post(url, _site_data(site, default_queue=network.b.queue.pk, queue_choices=[network.c.queue.pk]),
                       HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert page.status_code == 200 and "Choose a queue of the site&#x27;s own library." in text
    assert "not: Charliequeue" in text
    site.refresh_from_db()
    assert site.default_queue == network.a.queue

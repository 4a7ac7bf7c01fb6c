"""Every URL of the project that staff use keeps one library's data from another's staff.

Two libraries, A and B. B's librarian holds every permission a library's own administrator can be
given (not a superuser: that is the service's administrator). For each URL name of the project
(walked from the resolver) there is either a scenario below — B's librarian asks for A's object, or
works in their current library B, and is refused (404/403, nothing changed) or sees a list with none
of A's distinctive strings — or an entry in PUBLIC saying why the URL is not a staff page. A URL name
in neither table fails test_every_url_name_is_covered: a new staff page comes with its scenario.
"""

import json
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from reference import attachments
from reference.faq.models import FaqEntry, FaqSearchMiss
from reference.models import (
    Attachment,
    AuditEvent,
    CannedReply,
    Conversation,
    FaqActivity,
    LibrarianProfile,
    Library,
    LibraryCard,
    Message,
    Patron,
    Queue,
    Topic,
)
from reference.reports import tables
from tests import files
from widgets.models import Site

# Not staff pages: who may use them, and why they need no scenario here.
PUBLIC = {
    "": "the site root: a redirect to the dashboard's login",
    "login": "the login form",
    "logout": "ends one's own session",
    "set_language": "sets one's own language (Django's i18n view)",
    "widgets:loader": "the widget's script, the same for every site",
    "widgets:config": "a site's public widget settings, by its public key",
    "widgets:chat": "the patron's chat panel, by the site's public key",
    "widgets:demo": "the demo host page",
    "reference:patron_upload": "a patron's upload, authorised by the patron's token for their own chat",
    "reference:survey": "a patron's survey, by a signed token for their own chat",
    "faq:index": "the public FAQ (published entries only)",
    "faq:search": "the public FAQ search page",
    "faq:topic": "a public FAQ topic page",
    "faq:detail": "a published FAQ entry (and its helpful vote)",
    "faq:library_index": "a library's public FAQ at /l/<slug>/faq/ (its published entries only)",
    "faq:library_search": "a library's public FAQ search page",
    "faq:library_topic": "a public FAQ topic page of a library",
    "faq:library_detail": "a library's published FAQ entry (tests/test_faq_libraries.py: not under another's path)",
    "faq:api_search": "the widget's FAQ search",
    "faq:api_opt_out": "a patron keeps their own chat out of the FAQ, by their token",
    "faq:api_answered": "a patron says an entry answered them",
}
IGNORED_NAMESPACES = ("admin",)  # the admin has its own per-library rules (reference.admin)


# What only library A has: none of it may reach B's staff.
ALFA = ["Perpustakaan Alfa", "Antrean Alfa", "Situs Alfa", "Alfa Pustakawan", "Rina Alfarizi", "ALFA-0042",
        "Naskah kuno alfazeta", "pesan rahasia alfazeta", "Topik Alfa", "Balasan Alfa", "teks balasan alfa",
        "alfamiss kueri", "Entri FAQ Alfa", "pertanyaan offline alfazeta", "catatan-alfa.pdf"]


def _names(patterns, namespace=None, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _names(pattern.url_patterns, inner, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            if namespace and namespace.split(":")[0] in IGNORED_NAMESPACES:
                continue
            if pattern.name:
                yield f"{namespace}:{pattern.name}" if namespace else pattern.name
            else:  # unnamed: known by its route
                yield prefix + str(pattern.pattern)


def url_names():
    return set(_names(get_resolver().url_patterns))


# ---- the two libraries -------------------------------------------------------------------------

def _librarian(django_user_model, username, name, library, queue):
    user = django_user_model.objects.create_user(username=username, password="x", is_staff=True,
                                                 email=f"{username}@example.org")
    profile = LibrarianProfile.objects.create(user=user, display_name=name, library=library)
    profile.queues.add(queue)
    # Everything a library's own administrator may hold; reading the whole network's cover report is
    # for the network's coordinators (reports:network), not a library's staff.
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["reference", "widgets"])
                              .exclude(codename="view_network_reports"))
    return user


def _message(chat, seq, role, text, author=None, author_name="", attachment=None):
    return Message.objects.create(conversation=chat, seq=seq, role=role, text=text, author=author,
                                  author_name=author_name, attachment=attachment)


@pytest.fixture
def world(django_user_model, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    alfa = Library.objects.create(name="Perpustakaan Alfa")
    beta = Library.objects.create(name="Perpustakaan Beta")
    gamma = Library.objects.create(name="Perpustakaan Gamma")  # covers for A
    a_queue = Queue.objects.create(name="Antrean Alfa", slug="alfa", library=alfa)
    b_queue = Queue.objects.create(name="Antrean Beta", slug="beta", library=beta)
    a_site = Site.objects.create(name="Situs Alfa", key="alfa-site", default_queue=a_queue, library=alfa)
    b_site = Site.objects.create(name="Situs Beta", key="beta-site", default_queue=b_queue, library=beta)
    a_staff = _librarian(django_user_model, "alfa_admin", "Alfa Pustakawan", alfa, a_queue)
    b_staff = _librarian(django_user_model, "beta_admin", "Beta Pustakawan", beta, b_queue)

    # A's patron, one closed chat with a file and a topic, a second like it (a candidate FAQ), one
    # active chat A's librarian holds, one question left offline.
    rina = Patron.objects.create(site=a_site, name="Rina Alfarizi", email="rina@example.org")
    LibraryCard.objects.create(patron=rina, number="ALFA-0042")
    now = timezone.now()
    closed = Conversation.objects.create(
        patron=rina, site=a_site, queue=a_queue, librarian=a_staff, status="closed", subject="Naskah kuno alfazeta",
        first_assigned_at=now, first_response_at=now, closed_at=now, closed_by=a_staff, closed_by_role="librarian")
    topic = Topic.objects.create(library=alfa, label_id="Topik Alfa", label_en="Topik Alfa")
    closed.topics.add(topic)
    upload = Attachment(conversation=closed, role="patron", patron=rina, name="catatan-alfa.pdf",
                        content_type="application/pdf", size=len(files.pdf()))
    upload.file.save(f"{uuid.uuid4().hex}.pdf", ContentFile(files.pdf()), save=False)
    upload.save()
    _message(closed, 1, "patron", "Naskah kuno alfazeta: pesan rahasia alfazeta", author_name="Rina Alfarizi")
    _message(closed, 2, "patron", "", author_name="Rina Alfarizi", attachment=upload)
    _message(closed, 3, "librarian", "Ada di lantai dua.", author=a_staff, author_name="Alfa Pustakawan")
    twin = Conversation.objects.create(patron=rina, site=a_site, queue=a_queue, status="closed",
                                       subject="Naskah kuno alfazeta", closed_at=now)
    _message(twin, 1, "patron", "Naskah kuno alfazeta")
    active = Conversation.objects.create(patron=rina, site=a_site, queue=a_queue, librarian=a_staff, status="active",
                                         subject="Naskah kuno alfazeta", first_assigned_at=now, assigned_at=now)
    _message(active, 1, "patron", "pesan rahasia alfazeta lagi", author_name="Rina Alfarizi")
    g_staff = _librarian(django_user_model, "gamma_admin", "Gamma Pustakawan", gamma, a_queue)
    covered = Conversation.objects.create(patron=rina, site=a_site, queue=a_queue, librarian=g_staff, status="closed",
                                          subject="Naskah kuno alfazeta", covering_library=gamma, closed_at=now,
                                          first_assigned_at=now, first_response_at=now)
    _message(covered, 1, "librarian", "Dari Gamma", author=g_staff, author_name="Gamma Pustakawan")
    offline = Conversation.objects.create(patron=Patron.objects.create(site=a_site), site=a_site, queue=a_queue,
                                          status="closed", is_offline=True, closed_at=now,
                                          subject="pertanyaan offline alfazeta")
    _message(offline, 1, "patron", "pertanyaan offline alfazeta")
    reply = CannedReply.objects.create(library=alfa, title="Balasan Alfa", text_id="teks balasan alfa",
                                       text_en="teks balasan alfa", scope="library")
    entry = FaqEntry.objects.create(library=alfa, slug="entri-faq-alfa", question="Entri FAQ Alfa",
                                    answer="Jawaban alfa", status="draft")
    FaqSearchMiss.objects.create(library=alfa, key="alfamiss-kueri", query="alfamiss kueri", count=3)
    FaqActivity.objects.create(hour=now.replace(minute=0, second=0, microsecond=0), kind="view", entry=entry,
                               site=a_site, count=5)
    AuditEvent.objects.create(action=AuditEvent.Action.VIEW_TRANSCRIPT, user=a_staff,
                              actor="Alfa Pustakawan (alfa_admin)", library=alfa, conversation_id=closed.pk)

    # B's own: a patron with the same e-mail address (a history never crosses libraries) and a chat
    # B's librarian holds.
    b_patron = Patron.objects.create(site=b_site, name="Pembaca Beta", email="rina@example.org")
    b_active = Conversation.objects.create(
        patron=b_patron, site=b_site, queue=b_queue, librarian=b_staff, status="active", subject="Jam buka beta",
        first_assigned_at=now, assigned_at=now)
    _message(b_active, 1, "patron", "Jam buka beta?")

    class World:
        pass

    w = World()
    w.__dict__.update(alfa=alfa, beta=beta, a_queue=a_queue, a_site=a_site, a_staff=a_staff, b_staff=b_staff,
                      rina=rina, closed=closed, active=active, offline=offline, topic=topic, upload=upload,
                      reply=reply, entry=entry, b_active=b_active, b_queue=b_queue)
    return w


def _text(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def assert_none_of_alfa(response, allowed=(200,)):
    assert response.status_code in allowed, (response.status_code, _text(response)[:500])
    text = _text(response)
    shown = [word for word in ALFA if word.lower() in text.lower()]
    assert not shown, f"library A's data reached B's staff: {shown}"


def refused(response, codes=(404,)):
    assert response.status_code in codes, (response.status_code, _text(response)[:300])
    text = _text(response)
    assert not [word for word in ALFA if word.lower() in text.lower()]


def _json(client, method, url, body):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


# ---- one scenario per staff URL name ------------------------------------------------------------

def s_dashboard(client, w):
    assert_none_of_alfa(client.get(reverse("reference:dashboard")))


def s_choose_library(client, w):
    refused(client.post(reverse("reference:choose_library"), {"library": w.alfa.pk, "next": "/staff/topics/"}))
    assert_none_of_alfa(client.get(reverse("reference:topics")))  # still working in B


def s_offline_questions(client, w):
    assert_none_of_alfa(client.get(reverse("reference:offline_questions")))
    refused(client.post(reverse("reference:offline_questions"),
                        {"conversation": w.offline.pk, "text": "Jawaban dari Beta"}))
    w.offline.refresh_from_db()
    assert w.offline.first_response_at is None and not w.offline.messages.filter(seq=2).exists()


def s_transcripts(client, w):
    url = reverse("reference:transcripts")
    assert_none_of_alfa(client.get(url))
    assert_none_of_alfa(client.get(url, {"text": "alfazeta"}))
    assert_none_of_alfa(client.get(url, {"queue": w.a_queue.pk, "topic": w.topic.pk}))


def s_transcript(client, w):
    url = reverse("reference:transcript", args=[w.closed.pk])
    refused(client.get(url))
    refused(client.post(url, {"topics": [w.topic.pk], "question_type": "research"}))
    assert not w.closed.topics.exclude(pk=w.topic.pk).exists() and w.closed.question_type == ""


def s_topics(client, w):
    url = reverse("reference:topics")
    assert_none_of_alfa(client.get(url))
    refused(client.post(url, {"action": "deactivate", "topic": w.topic.pk}))
    w.topic.refresh_from_db()
    assert w.topic.is_active


def s_topic_edit(client, w):
    url = reverse("reference:topic_edit", args=[w.topic.pk])
    refused(client.get(url))
    refused(client.post(url, {"label_id": "Diubah Beta", "label_en": "Changed by B"}))
    w.topic.refresh_from_db()
    assert w.topic.label_id == "Topik Alfa"


def s_audit(client, w):
    url = reverse("reference:audit")
    assert_none_of_alfa(client.get(url))
    assert_none_of_alfa(client.get(url, {"conversation": w.closed.pk}))
    assert_none_of_alfa(client.get(url, {"user": w.a_staff.pk}), allowed=(400,))  # not one of B's staff


def s_staff_upload(client, w):
    before = Attachment.objects.count()
    response = client.post(reverse("reference:staff_upload"), {
        "conversation": str(w.active.pk), "file": ContentFile(files.pdf(), name="dari-beta.pdf")})
    refused(response)
    assert Attachment.objects.count() == before


def s_attachment(client, w):
    refused(client.get(attachments.signed_url(w.upload)))


def s_earlier_chat(client, w):
    refused(client.get(reverse("reference:earlier_chat", args=[w.b_active.pk, w.closed.pk])))
    refused(client.get(reverse("reference:earlier_chat", args=[w.active.pk, w.closed.pk])))


def s_canned_replies(client, w):
    url = reverse("reference:canned_replies")
    assert_none_of_alfa(client.get(url))
    assert_none_of_alfa(client.get(url, {"conversation": w.b_active.pk}))
    refused(client.get(url, {"conversation": w.active.pk}), codes=(403, 404))
    response = _json(client, "post", url, {"title": "Bagi ke Alfa", "text_id": "a", "text_en": "b",
                                            "scope": "queue", "queue": w.a_queue.pk})
    refused(response, codes=(400,))
    assert not CannedReply.objects.filter(title="Bagi ke Alfa").exists()


def s_canned_reply(client, w):
    url = reverse("reference:canned_reply", args=[w.reply.pk])
    refused(_json(client, "put", url, {"title": "Diubah Beta", "text_id": "a", "text_en": "b", "scope": "library"}))
    refused(client.delete(url))
    w.reply.refresh_from_db()
    assert w.reply.title == "Balasan Alfa"


def s_canned_use(client, w):
    url = reverse("reference:canned_use", args=[w.reply.pk])
    refused(_json(client, "post", url, {"conversation": w.b_active.pk}))
    refused(_json(client, "post", url, {"conversation": w.active.pk}), codes=(403, 404))
    w.reply.refresh_from_db()
    assert w.reply.usage_count == 0


def s_patron_data(client, w):
    url = reverse("reference:patron_data")
    assert_none_of_alfa(client.get(url, {"conversation": w.closed.pk}))
    _no_records(client.get(url, {"card_number": "ALFA-0042"}))


def _no_records(response):
    """A lookup that names A's patron: B's page finds nothing (the form echoes what was typed)."""
    assert response.status_code == 200
    text = _text(response).replace("ALFA-0042", "")
    assert not [word for word in ALFA if word.lower() in text.lower()]


def s_patron_data_export(client, w):
    url = reverse("reference:patron_data_export")
    refused(client.post(url, {"conversation": w.closed.pk}))
    response = client.post(url, {"card_number": "ALFA-0042"})
    assert response.status_code == 404
    assert "Rina Alfarizi" not in _text(response)


def s_patron_data_erase(client, w):
    url = reverse("reference:patron_data_erase")
    refused(client.post(url, {"conversation": w.closed.pk, "confirm": "yes"}))
    assert client.post(url, {"card_number": "ALFA-0042", "confirm": "yes"}).status_code == 404
    assert Patron.objects.filter(pk=w.rina.pk).exists()
    w.closed.refresh_from_db()
    assert w.closed.anonymised_at is None


def s_staff_misses(client, w):
    assert_none_of_alfa(client.get(reverse("faq:staff_misses")))


def s_staff_candidates(client, w):
    assert_none_of_alfa(client.get(reverse("faq:staff_candidates")))


def s_staff_edit(client, w):
    url = reverse("faq:staff_edit", args=[w.entry.pk])
    refused(client.get(url))
    refused(client.post(url, {"question": "Diubah Beta", "answer": "x"}))
    w.entry.refresh_from_db()
    assert w.entry.question == "Entri FAQ Alfa"


def s_staff_preview(client, w):
    # Markdown in, HTML out: it reads no library's data.
    assert_none_of_alfa(client.post(reverse("faq:staff_preview"), {"source": "**tebal**"}))


def s_draft_from_transcript(client, w):
    before = FaqEntry.objects.count()
    refused(client.post(reverse("faq:draft_from_transcript", args=[w.closed.pk])))
    assert FaqEntry.objects.count() == before


def s_report_page(client, w):
    url = reverse("reports:page")
    assert_none_of_alfa(client.get(url))
    assert_none_of_alfa(client.get(url, {"queue": w.a_queue.pk}), allowed=(400,))
    assert_none_of_alfa(client.get(url, {"site": w.a_site.pk}), allowed=(400,))
    assert_none_of_alfa(client.get(url, {"librarian": w.a_staff.pk}), allowed=(400,))


def s_monthly_summary(client, w):
    # Changes only the asker's own subscription.
    response = client.post(reverse("reports:monthly_summary"), {"monthly_summary": "on"})
    assert response.status_code == 302
    assert not LibrarianProfile.objects.get(user=w.a_staff).monthly_summary


def _export(name):
    def scenario(client, w):
        url = reverse(name)
        assert_none_of_alfa(client.get(url))
        assert_none_of_alfa(client.get(url, {"queue": w.a_queue.pk}), allowed=(400,))
        assert_none_of_alfa(client.get(url, {"site": w.a_site.pk}), allowed=(400,))
    return scenario


def s_network(client, w):
    # B's staff read the pairs B is in; A covered by Gamma is none of theirs.
    url = reverse("reports:network")
    assert_none_of_alfa(client.get(url))
    for name in ("pairs", "librarians"):
        response = client.get(reverse("reports:network_csv", args=[name]))
        assert_none_of_alfa(response)
        assert "Gamma" not in _text(response)


def s_export_table(client, w):
    for name in tables.TABLES:
        url = reverse("reports:export_table", args=[name])
        assert_none_of_alfa(client.get(url))
        assert_none_of_alfa(client.get(url, {"queue": w.a_queue.pk}), allowed=(400,))


SCENARIOS = {
    "reference:dashboard": s_dashboard,
    "reference:choose_library": s_choose_library,
    "reference:offline_questions": s_offline_questions,
    "reference:transcripts": s_transcripts,
    "reference:transcript": s_transcript,
    "reference:topics": s_topics,
    "reference:topic_edit": s_topic_edit,
    "reference:audit": s_audit,
    "reference:staff_upload": s_staff_upload,
    "reference:attachment": s_attachment,
    "reference:earlier_chat": s_earlier_chat,
    "reference:canned_replies": s_canned_replies,
    "reference:canned_reply": s_canned_reply,
    "reference:canned_use": s_canned_use,
    "reference:patron_data": s_patron_data,
    "reference:patron_data_export": s_patron_data_export,
    "reference:patron_data_erase": s_patron_data_erase,
    "faq:staff_misses": s_staff_misses,
    "faq:staff_candidates": s_staff_candidates,
    "faq:staff_edit": s_staff_edit,
    "faq:staff_preview": s_staff_preview,
    "faq:draft_from_transcript": s_draft_from_transcript,
    "reports:page": s_report_page,
    "reports:monthly_summary": s_monthly_summary,
    "reports:export_transcripts_csv": _export("reports:export_transcripts_csv"),
    "reports:export_transcripts_json": _export("reports:export_transcripts_json"),
    "reports:export_table": s_export_table,
    "reports:network": s_network,
    "reports:network_csv": s_network,
}


def test_every_url_name_is_covered():
    """A URL name in neither table: write its scenario (a staff page) or say in PUBLIC why it is none."""
    names = url_names()
    assert not set(SCENARIOS) & set(PUBLIC)
    missing = sorted(names - set(SCENARIOS) - set(PUBLIC))
    assert not missing, f"URL names with no isolation scenario and not listed as public: {missing}"
    gone = sorted((set(SCENARIOS) | set(PUBLIC)) - names)
    assert not gone, f"scenarios for URL names that no longer exist: {gone}"


@pytest.mark.django_db(transaction=True)  # the report views read on a thread of their own
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_library_b_staff_cannot_reach_library_a(client, world, name):
    client.force_login(world.b_staff)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    SCENARIOS[name](client, world)


@pytest.mark.django_db(transaction=True)
def test_library_a_sees_its_own(client, world):
    """The control: the same requests by A's librarian do show A's data (the strings are real)."""
    client.force_login(world.a_staff)
    transcript = client.get(reverse("reference:transcript", args=[world.closed.pk]))
    assert "pesan rahasia alfazeta" in transcript.content.decode()
    assert "Topik Alfa" in client.get(reverse("reference:topics")).content.decode()
    assert "pertanyaan offline alfazeta" in client.get(reverse("reference:offline_questions")).content.decode()
    assert "Balasan Alfa" in client.get(reverse("reference:canned_replies")).content.decode()
    assert "Alfa Pustakawan" in client.get(reverse("reference:audit")).content.decode()
    assert "Antrean Alfa" in client.get(reverse("reports:page")).content.decode()
    csv_text = _text(client.get(reverse("reports:export_transcripts_csv")))
    assert "pesan rahasia alfazeta" in csv_text
    assert client.get(attachments.signed_url(world.upload)).status_code == 200
    found = client.get(reverse("reference:patron_data"), {"card_number": "ALFA-0042"})
    assert "Rina Alfarizi" in found.content.decode()
    network = _text(client.get(reverse("reports:network_csv", args=["pairs"])))
    assert "Perpustakaan Alfa" in network and "Perpustakaan Gamma" in network

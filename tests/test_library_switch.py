"""The staff bar's library switch (reference.views.choose_library): a librarian of several libraries
picks the one the staff pages work in; the bar always names it."""

import pytest
from django.test import Client
from django.urls import reverse

from reference import tenancy
from reference.models import LibrarianProfile, Library, Queue, Topic

pytestmark = pytest.mark.django_db

SWITCH = "/staff/library/"


@pytest.fixture
def libraries(django_user_model):
    alfa, beta, gamma = (Library.objects.create(name=name) for name in
                         ("Perpustakaan Alfa", "Perpustakaan Beta", "Perpustakaan Gamma"))
    for library in (alfa, beta, gamma):
        Topic.objects.create(library=library, label_id=f"Topik {library.name}", label_en=f"Topic {library.name}")
        Queue.objects.create(name=f"Antrean {library.name}", slug=library.slug, library=library)
    both = django_user_model.objects.create_user(username="dua", is_staff=True)
    profile = LibrarianProfile.objects.create(user=both, display_name="Dua Perpustakaan", library=alfa)
    profile.other_libraries.add(beta)
    one = django_user_model.objects.create_user(username="satu", is_staff=True)
    LibrarianProfile.objects.create(user=one, display_name="Satu Perpustakaan", library=gamma)
    return {"alfa": alfa, "beta": beta, "gamma": gamma, "both": both, "one": one}


def topics_page(client):
    return client.get(reverse("reference:topics"), HTTP_ACCEPT_LANGUAGE="en").content.decode()


def current(client):
    return client.session.get(tenancy.SESSION_KEY)


def test_the_home_library_first_then_the_chosen_one(client, libraries):
    client.force_login(libraries["both"])
    page = topics_page(client)
    assert "Topik Perpustakaan Alfa" in page and "Topik Perpustakaan Beta" not in page
    # The bar offers both libraries, the current one chosen.
    assert 'id="library-select"' in page
    assert f'<option value="{libraries["alfa"].pk}" selected>Perpustakaan Alfa</option>' in page
    assert f'<option value="{libraries["beta"].pk}">Perpustakaan Beta</option>' in page
    assert "Perpustakaan Gamma" not in page

    response = client.post(SWITCH, {"library": libraries["beta"].pk, "next": "/staff/topics/?x=1"})
    assert response.status_code == 302 and response["Location"] == "/staff/topics/?x=1"
    assert current(client) == libraries["beta"].pk
    page = topics_page(client)
    assert "Topik Perpustakaan Beta" in page and "Topik Perpustakaan Alfa" not in page
    assert f'<option value="{libraries["beta"].pk}" selected>Perpustakaan Beta</option>' in page


@pytest.mark.parametrize("chosen", ["gamma", "missing", "abc", "", "-1", "1.5", "99999999999999999999999"])
def test_a_library_one_does_not_belong_to_or_a_bad_id_is_404_and_nothing_changes(client, libraries, chosen):
    client.force_login(libraries["both"])
    client.post(SWITCH, {"library": libraries["beta"].pk})
    value = {"gamma": libraries["gamma"].pk, "missing": Library.objects.order_by("-pk").first().pk + 100}.get(
        chosen, chosen)
    response = client.post(SWITCH, {"library": value, "next": "/staff/topics/"})
    assert response.status_code == 404
    assert current(client) == libraries["beta"].pk
    page = topics_page(client)
    assert "Topik Perpustakaan Beta" in page and "Topik Perpustakaan Gamma" not in page


def test_no_library_given_is_404(client, libraries):
    client.force_login(libraries["both"])
    assert client.post(SWITCH, {}).status_code == 404
    assert current(client) is None


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/staff/", "javascript:alert(1)", ""])
def test_only_a_page_of_this_site_is_gone_back_to(client, libraries, next_url):
    client.force_login(libraries["both"])
    response = client.post(SWITCH, {"library": libraries["beta"].pk, "next": next_url})
    assert response.status_code == 302 and response["Location"] == reverse("reference:dashboard")
    assert current(client) == libraries["beta"].pk


def test_only_post_with_the_csrf_token(libraries):
    client = Client(enforce_csrf_checks=True)
    client.force_login(libraries["both"])
    assert client.get(SWITCH).status_code == 405
    assert client.post(SWITCH, {"library": libraries["beta"].pk}).status_code == 403
    assert client.session.get(tenancy.SESSION_KEY) is None


def test_not_logged_in_or_not_staff(client, libraries, django_user_model):
    response = client.post(SWITCH, {"library": libraries["beta"].pk})
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(django_user_model.objects.create_user(username="pembaca"))
    assert client.post(SWITCH, {"library": libraries["beta"].pk}).status_code == 302
    assert client.session.get(tenancy.SESSION_KEY) is None


def test_a_librarian_of_one_library_sees_its_name_and_no_switch(client, libraries):
    client.force_login(libraries["one"])
    page = topics_page(client)
    assert '<span class="current-library"' in page and "Perpustakaan Gamma" in page
    assert 'id="library-select"' not in page
    assert client.post(SWITCH, {"library": libraries["alfa"].pk}).status_code == 404
    assert client.post(SWITCH, {"library": libraries["gamma"].pk}).status_code == 302


def test_a_library_left_since_falls_back_to_home(client, libraries):
    client.force_login(libraries["both"])
    client.post(SWITCH, {"library": libraries["beta"].pk})
    libraries["both"].librarian_profile.other_libraries.clear()
    page = topics_page(client)
    assert "Topik Perpustakaan Alfa" in page and "Topik Perpustakaan Beta" not in page
    assert '<span class="current-library"' in page


def test_the_current_library_scopes_the_list_pages(client, libraries):
    """Working in Beta, the lists and menus hold Beta's things only; in Alfa, Alfa's."""
    client.force_login(libraries["both"])
    client.post(SWITCH, {"library": libraries["beta"].pk})
    transcripts = client.get(reverse("reference:transcripts")).content.decode()
    assert "Antrean Perpustakaan Beta" in transcripts and "Antrean Perpustakaan Alfa" not in transcripts
    assert "Topik Perpustakaan Alfa" not in transcripts
    client.post(SWITCH, {"library": libraries["alfa"].pk})
    transcripts = client.get(reverse("reference:transcripts")).content.decode()
    assert "Antrean Perpustakaan Alfa" in transcripts and "Antrean Perpustakaan Beta" not in transcripts

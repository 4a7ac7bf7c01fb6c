"""Logging in: an account that may not work the desk is told so, and what an administrator must change."""

import pytest
from django.urls import reverse

from tests.browser import PASSWORD


@pytest.fixture
def visitor(django_user_model):
    return django_user_model.objects.create_user("tamu", password=PASSWORD, is_staff=False)


@pytest.mark.django_db
class TestLoginPage:
    def test_an_account_without_staff_status_is_refused_with_what_to_change(self, client, visitor):
        response = client.post(reverse("login"), {"username": "tamu", "password": PASSWORD,
                                                  "next": "/dashboard/"}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        text = response.content.decode()
        assert "may not work the reference desk yet" in text and "Staff status" in text
        assert "did not match" not in text
        assert "_auth_user_id" not in client.session  # not logged in: nothing changed

    def test_the_message_is_in_indonesian_by_default(self, client, visitor):
        response = client.post(reverse("login"), {"username": "tamu", "password": PASSWORD})
        assert "Status staf" in response.content.decode()

    def test_a_wrong_password_still_gets_the_usual_message(self, client, visitor):
        response = client.post(reverse("login"), {"username": "tamu", "password": "wrong"},
                               HTTP_ACCEPT_LANGUAGE="en")
        text = response.content.decode()
        assert "did not match" in text and "Staff status" not in text

    def test_a_librarian_gets_in(self, client, django_user_model):
        django_user_model.objects.create_user("siti", password=PASSWORD, is_staff=True)
        response = client.post(reverse("login"), {"username": "siti", "password": PASSWORD, "next": "/dashboard/"})
        assert response.status_code == 302 and response["Location"] == "/dashboard/"

    def test_someone_already_logged_in_without_staff_status_is_told_on_the_login_page(self, client, visitor):
        client.force_login(visitor)
        dashboard = client.get(reverse("reference:dashboard"))
        assert dashboard.status_code == 302
        page = client.get(dashboard["Location"], HTTP_ACCEPT_LANGUAGE="en")
        assert "You are logged in as “tamu”" in page.content.decode()


@pytest.mark.django_db
def test_the_admin_user_form_says_which_box_makes_a_librarian(admin_client, visitor):
    page = admin_client.get(reverse("admin:auth_user_change", args=[visitor.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "to make someone a librarian" in page.content.decode()

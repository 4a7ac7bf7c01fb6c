"""manage.py add_library: the service's administrator adds a library, its first queue, its widget site
and its own administrator; bad input changes nothing."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse

from reference.management.commands.add_library import ADMIN_GROUP
from reference.models import LibrarianProfile, Library, Queue
from widgets.models import Site

User = get_user_model()


def add(*args, **options):
    out = StringIO()
    call_command("add_library", *args, stdout=out, **options)
    return out.getvalue()


def counts():
    return (Library.objects.count(), Queue.objects.count(), Site.objects.count(), User.objects.count(),
            Group.objects.count(), LibrarianProfile.objects.count())


def test_a_library_with_its_queue_site_and_administrator(db):
    out = add("Perpustakaan Tebing Tinggi", "--slug", "tebing", "--queue", "Umum",
              "--site-origin", "https://Perpustakaan.Example.org/path", "--admin", "kepala",
              "--admin-email", "kepala@example.org", "--admin-password", "Sebuah-Sandi-Panjang-9",
              "--service-url", "https://tanya.example.org/")
    library = Library.objects.get(slug="tebing")
    queue = Queue.objects.get(library=library)
    site = Site.objects.get(library=library)
    assert (library.name, queue.name, site.default_queue, site.allowed_origins) == (
        "Perpustakaan Tebing Tinggi", "Umum", queue, "https://perpustakaan.example.org")
    user = User.objects.get(username="kepala")
    assert user.is_staff and not user.is_superuser and user.check_password("Sebuah-Sandi-Panjang-9")
    assert user.librarian_profile.library == library and list(user.librarian_profile.queues.all()) == [queue]
    assert user.groups.filter(name=ADMIN_GROUP).exists()
    assert user.has_perm("reference.change_queue") and user.has_perm("reference.view_desk_reports")
    assert not user.has_perm("reference.add_library") and not user.has_perm("reference.view_network_reports")
    assert f'<script src="https://tanya.example.org/widget.js" data-site="{site.key}" async></script>' in out
    assert "https://tanya.example.org/l/tebing/faq/" in out


def test_the_least_a_library_needs(db):
    before = Library.objects.count()
    out = add("Perpustakaan Desa Suka Maju")
    library = Library.objects.get(name="Perpustakaan Desa Suka Maju")
    assert library.slug == "perpustakaan-desa-suka-maju" and Library.objects.count() == before + 1
    assert Queue.objects.get(library=library).name == "General"
    assert Site.objects.get(library=library).allowed_origins == ""
    assert "/l/perpustakaan-desa-suka-maju/faq/" in out and "no allowed origin yet" in out


def test_the_group_is_made_once(db):
    add("Satu", "--admin", "satu")
    add("Dua", "--admin", "dua")
    assert Group.objects.filter(name=ADMIN_GROUP).count() == 1
    assert User.objects.get(username="dua").groups.get().name == ADMIN_GROUP
    assert not User.objects.get(username="satu").has_usable_password()  # until changepassword


@pytest.mark.parametrize("args, message", [
    (["Dua", "--slug", "satu"], "The address name “satu” is taken"),
    (["Satu"], "A library called “Satu” already exists"),
    (["Dua", "--slug", "bukan slug!"], "is not an address name"),
    (["Dua", "--site-origin", "perpustakaan.example.org"], "is not an origin"),
    (["Dua", "--site-origin", "ftp://x"], "is not an origin"),
    (["Dua", "--admin", "satu-admin"], "A user called “satu-admin” already exists"),
    (["Dua", "--admin", "bad name!"], "is not a user name"),
    (["Dua", "--admin", "dua", "--admin-email", "not-an-address"], "is not an e-mail address"),
    (["Dua", "--admin", "dua", "--admin-password", "123"], "too short"),
    (["Dua", "--admin-password", "Sebuah-Sandi-Panjang-9"], "go with --admin"),
    (["  "], "The library needs a name."),
    (["Dua", "--queue", "!!!"], "gives no queue address"),
])
def test_bad_input_creates_nothing(db, args, message):
    add("Satu", "--slug", "satu", "--admin", "satu-admin")
    before = counts()
    with pytest.raises(CommandError) as refused:
        add(*args)
    assert message in str(refused.value) and str(refused.value).startswith("Nothing was created")
    assert counts() == before


def test_the_new_administrator_manages_only_the_new_library(client, db):
    add("Satu", "--admin", "satu-admin")
    add("Dua", "--admin", "dua-admin")
    client.force_login(User.objects.get(username="dua-admin"))
    page = client.get(reverse("admin:reference_queue_changelist")).content.decode()
    assert "Dua" in page and "Satu" not in page
    assert client.get(reverse("admin:widgets_site_changelist")).status_code == 200

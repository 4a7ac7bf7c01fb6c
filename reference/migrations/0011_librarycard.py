# A library card number is patron data: it moves from the widgets app to the reference desk.

import django.db.models.deletion
from django.db import migrations, models


def copy_cards(apps, schema_editor):
    old, new = apps.get_model("widgets", "LibraryCard"), apps.get_model("reference", "LibraryCard")
    new.objects.bulk_create(new(patron_id=card.patron_id, number=card.number, updated_at=card.updated_at)
                            for card in old.objects.all())


def copy_back(apps, schema_editor):
    old, new = apps.get_model("widgets", "LibraryCard"), apps.get_model("reference", "LibraryCard")
    old.objects.bulk_create(old(patron_id=card.patron_id, number=card.number, updated_at=card.updated_at)
                            for card in new.objects.all())


class Migration(migrations.Migration):

    dependencies = [
        ("reference", "0010_faq_search_vector"),
        ("widgets", "0003_prechat_fields"),
    ]

    operations = [
        migrations.CreateModel(
            name="LibraryCard",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.CharField(max_length=32, verbose_name="library card number")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                ("patron", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE,
                                                related_name="library_card", to="reference.patron")),
            ],
            options={"verbose_name": "library card", "verbose_name_plural": "library cards"},
        ),
        migrations.RunPython(copy_cards, copy_back),
    ]

"""Searches that found nothing are kept per library since 0020: their key starts with the library's
id ("3|buka jam", reference.faq.services.miss_key). Rows from before get their library's prefix, so
a new miss of the same words counts on the same row."""

from django.db import migrations


def prefix_keys(apps, schema_editor):
    FaqSearchMiss = apps.get_model("reference", "FaqSearchMiss")
    for miss in FaqSearchMiss.objects.exclude(key__regex=r"^[0-9]+\|"):
        key = f"{miss.library_id}|{miss.key}"[:255]
        if FaqSearchMiss.objects.filter(key=key).exists():
            continue  # already counted under the new key: keep both rather than lose a count
        miss.key = key
        miss.save(update_fields=["key"])


class Migration(migrations.Migration):
    dependencies = [("reference", "0020_network")]

    operations = [migrations.RunPython(prefix_keys, migrations.RunPython.noop)]

"""Messages stored before transcript search by words get their terms (reference.transcript_search),
so staff find them too. About four minutes per million messages; `index_transcripts` does the same
later, after the stemmer or the informal spellings change."""

from django.db import migrations


def index_messages(apps, schema_editor):
    from reference import transcript_search

    transcript_search.reindex(model=apps.get_model("reference", "Message"))


class Migration(migrations.Migration):
    dependencies = [("reference", "0018_faq_defaults")]
    operations = [migrations.RunPython(index_messages, migrations.RunPython.noop)]

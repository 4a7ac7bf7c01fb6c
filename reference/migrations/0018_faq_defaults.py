"""Every install gets the shipped synonym groups, informal spellings and topic labels
(reference/faq/defaults.py), not only one loaded with demo data."""

from django.db import migrations


def install_defaults(apps, schema_editor):
    from reference.faq import defaults

    defaults.install(apps.get_model("reference", "FaqSynonym"), apps.get_model("reference", "FaqSpelling"),
                     apps.get_model("reference", "FaqTopic"), apps.get_model("reference", "FaqEntry"))


class Migration(migrations.Migration):
    dependencies = [("reference", "0017_faq_meaning")]
    operations = [migrations.RunPython(install_defaults, migrations.RunPython.noop)]

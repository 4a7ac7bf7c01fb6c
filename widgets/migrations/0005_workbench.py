# A widget site belongs to a library.

import django.db.models.deletion
import reference.models
from django.db import migrations, models


def sites_into_first_library(apps, schema_editor):
    """Until now the desk served one library: every site already here is its."""
    sites = apps.get_model("widgets", "Site").objects
    if sites.exists():
        Library = apps.get_model("reference", "Library")
        library = Library.objects.order_by("pk").first() or Library.objects.create(name="Perpustakaan")
        sites.update(library=library)


class Migration(migrations.Migration):

    dependencies = [
        ('reference', '0012_workbench'),
        ('widgets', '0004_move_librarycard'),
    ]

    operations = [
        migrations.AddField(
            model_name='site',
            name='library',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='sites', to='reference.library', verbose_name='library'),
        ),
        migrations.RunPython(sites_into_first_library, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='site',
            name='library',
            field=models.ForeignKey(default=reference.models.default_library, on_delete=django.db.models.deletion.PROTECT, related_name='sites', to='reference.library', verbose_name='library'),
        ),
    ]

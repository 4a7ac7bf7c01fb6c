# The library card moved to the reference desk (reference 0011 copied the rows).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("widgets", "0003_prechat_fields"),
        ("reference", "0011_librarycard"),
    ]

    operations = [
        migrations.DeleteModel(name="LibraryCard"),
    ]

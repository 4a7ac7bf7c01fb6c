# The librarian's workbench: libraries, topics and the READ scale, internal notes, canned replies.

import django.db.models.deletion
import reference.models
from django.conf import settings
from django.db import migrations, models


def first_library(apps):
    Library = apps.get_model("reference", "Library")
    return Library.objects.order_by("pk").first() or Library.objects.create(name="Perpustakaan")


def librarians_into_first_library(apps, schema_editor):
    """Until now the desk served one library: everyone already here works for it. Made here even on
    an empty database, so that the AlterField below never calls the model's default_library(), which
    queries the Library of the newest code (with columns later migrations add)."""
    apps.get_model("reference", "LibrarianProfile").objects.update(library=first_library(apps))


class Migration(migrations.Migration):

    dependencies = [
        ('reference', '0011_librarycard'),
        ('widgets', '0004_move_librarycard'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Library',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=120, verbose_name='name')),
                ('assessment', models.CharField(choices=[('optional', 'Optional'), ('required', 'Required before closing')], default='optional', help_text='Required: a librarian picks a READ scale value and at least one topic before closing a chat.', max_length=10, verbose_name='topics and READ scale')),
                ('retention_days', models.PositiveIntegerField(blank=True, help_text="Librarians see a returning patron's earlier chats from this many days back. Empty: all of them.", null=True, verbose_name='keep transcripts for (days)')),
            ],
            options={
                'verbose_name': 'library',
                'verbose_name_plural': 'libraries',
                'ordering': ['pk'],
            },
        ),
        migrations.AddField(
            model_name='conversation',
            name='question_type',
            field=models.CharField(blank=True, choices=[('directional', 'Directional'), ('ready_reference', 'Ready reference'), ('research', 'Research'), ('technical', 'Technical'), ('policy', 'Policy')], max_length=20, verbose_name='question type'),
        ),
        migrations.AddField(
            model_name='conversation',
            name='read_scale',
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='READ scale'),
        ),
        migrations.AddField(
            model_name='librarianprofile',
            name='requeued_while_away',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.CreateModel(
            name='InternalNote',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('author_name', models.CharField(max_length=100, verbose_name='author')),
                ('text', models.TextField(verbose_name='note')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='written')),
                ('author', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('conversation', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notes', to='reference.conversation')),
                ('patron', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notes', to='reference.patron')),
            ],
            options={
                'verbose_name': 'internal note',
                'verbose_name_plural': 'internal notes',
                'ordering': ['created_at'],
            },
        ),
        migrations.CreateModel(
            name='CannedReply',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('scope', models.CharField(choices=[('personal', 'Only me'), ('queue', 'A queue'), ('library', 'The whole library')], default='personal', max_length=10, verbose_name='shared with')),
                ('title', models.CharField(max_length=80, verbose_name='title')),
                ('text_id', models.TextField(verbose_name='Indonesian text')),
                ('text_en', models.TextField(verbose_name='English text')),
                ('usage_count', models.PositiveIntegerField(default=0, verbose_name='used')),
                ('last_used_at', models.DateTimeField(blank=True, null=True, verbose_name='last used')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                ('owner', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='canned_replies', to=settings.AUTH_USER_MODEL, verbose_name='owner')),
                ('queue', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='canned_replies', to='reference.queue', verbose_name='queue')),
                ('library', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='canned_replies', to='reference.library')),
            ],
            options={
                'verbose_name': 'canned reply',
                'verbose_name_plural': 'canned replies',
                'ordering': ['title'],
                'permissions': [('manage_shared_cannedreply', 'Can manage shared canned replies')],
            },
        ),
        migrations.AddField(
            model_name='librarianprofile',
            name='library',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='librarians', to='reference.library', verbose_name='library'),
        ),
        migrations.RunPython(librarians_into_first_library, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='librarianprofile',
            name='library',
            field=models.ForeignKey(default=reference.models.default_library, on_delete=django.db.models.deletion.PROTECT, related_name='librarians', to='reference.library', verbose_name='library'),
        ),
        migrations.CreateModel(
            name='Topic',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('label_id', models.CharField(max_length=80, verbose_name='Indonesian label')),
                ('label_en', models.CharField(max_length=80, verbose_name='English label')),
                ('is_active', models.BooleanField(default=True, verbose_name='active')),
                ('library', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='topics', to='reference.library', verbose_name='library')),
            ],
            options={
                'verbose_name': 'topic',
                'verbose_name_plural': 'topics',
                'ordering': ['label_id'],
            },
        ),
        migrations.AddField(
            model_name='conversation',
            name='topics',
            field=models.ManyToManyField(blank=True, related_name='conversations', to='reference.topic', verbose_name='topics'),
        ),
        migrations.AddConstraint(
            model_name='conversation',
            constraint=models.CheckConstraint(condition=models.Q(('read_scale__isnull', True), models.Q(('read_scale__gte', 1), ('read_scale__lte', 6)), _connector='OR'), name='read_scale_from_one_to_six'),
        ),
        migrations.AddConstraint(
            model_name='cannedreply',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('owner__isnull', False), ('queue__isnull', True), ('scope', 'personal')), models.Q(('owner__isnull', True), ('queue__isnull', False), ('scope', 'queue')), models.Q(('owner__isnull', True), ('queue__isnull', True), ('scope', 'library')), _connector='OR'), name='canned_reply_scope_matches'),
        ),
        migrations.AddConstraint(
            model_name='topic',
            constraint=models.UniqueConstraint(fields=('library', 'label_id'), name='topic_label_unique'),
        ),
    ]

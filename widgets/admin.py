from django import forms
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from reference import surveys
from reference.admin import LibraryScopedAdmin
from reference.errors import ServiceError
from reference.models import SurveyQuestion
from widgets.models import Site


class SurveyQuestionFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        active = [form for form in self.forms
                  if form.cleaned_data.get("is_active") and not self._should_delete_form(form)]
        try:
            surveys.check_active_count(len(active))
        except ServiceError as refused:
            raise forms.ValidationError(refused.message) from None


class SurveyQuestionInline(admin.TabularInline):
    """The site's survey after a chat (reference.surveys): both languages, at most five active."""

    model = SurveyQuestion
    formset = SurveyQuestionFormSet
    fields = ["position", "kind", "text_id", "text_en", "is_active"]
    ordering = ["position", "pk"]
    extra = 0


class SiteForm(forms.ModelForm):
    """A site sends its chats to its own library's queues."""

    def clean(self):
        cleaned = super().clean()
        library = cleaned.get("library")
        if library is None:
            return cleaned
        default_queue = cleaned.get("default_queue")
        if default_queue is not None and default_queue.library_id != library.pk:
            self.add_error("default_queue", _("Choose a queue of the site's own library."))
        foreign = [queue.name for queue in cleaned.get("queue_choices") or () if queue.library_id != library.pk]
        if foreign:
            self.add_error("queue_choices", _("Only the site's own library's queues, not: %(queues)s")
                           % {"queues": ", ".join(foreign)})
        return cleaned


@admin.register(Site)
class SiteAdmin(LibraryScopedAdmin, admin.ModelAdmin):
    form = SiteForm
    list_display = ["name", "library", "key", "default_queue", "is_active"]
    list_filter = ["is_active", "library", "default_queue"]
    search_fields = ["name", "key", "allowed_origins"]
    readonly_fields = ["embed_code"]
    fieldsets = [
        (None, {"fields": ["name", "library", "key", "allowed_origins", "default_queue", "queue_choices", "greeting",
                           "is_active", "embed_code"]}),
        (_("Pre-chat form"), {"fields": ["name_field", "email_field", "card_field", "age_group_field", "queue_field",
                                         "privacy_notice"]}),
        (_("Invitation"), {"fields": ["invite_after"]}),
        (_("Survey"), {"fields": ["offline_survey_percent"],
                       "description": _("The questions asked after a chat are listed below the settings.")}),
    ]
    inlines = [SurveyQuestionInline]
    filter_horizontal = ["queue_choices"]

    @admin.display(description=_("embed code"))
    def embed_code(self, site):
        if not site.pk:
            return _("Save the site to see its embed code.")
        return format_html(
            '<code>&lt;script src="{}" data-site="{}" async&gt;&lt;/script&gt;</code>',
            self.request.build_absolute_uri("/widget.js"), site.key,
        )

    def get_form(self, request, obj=None, **kwargs):
        self.request = request
        return super().get_form(request, obj, **kwargs)

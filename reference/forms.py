from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from reference import transcript_search
from reference.models import Queue, Topic


class LibrarianChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        profile = getattr(user, "librarian_profile", None)
        return profile.display_name if profile else user.get_username()


class PeriodFilterForm(forms.Form):
    """From and To, both optional; From not after To."""

    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("“From” must not be after “To”."))
        return cleaned


class TranscriptFilterForm(PeriodFilterForm):
    queue = forms.ModelChoiceField(label=_("Queue"), queryset=Queue.objects.all(), required=False,
                                   empty_label=_("All queues"))
    librarian = LibrarianChoiceField(
        label=_("Librarian"),
        queryset=get_user_model().objects.filter(is_staff=True).select_related("librarian_profile"),
        required=False,
        empty_label=_("All librarians"),
    )
    text = forms.CharField(
        label=_("Text"), required=False, max_length=200,
        help_text=_("Finds chats that hold all these words, in any of their forms and in either language: "
                    "“pinjam” also finds “meminjam” and “peminjaman”; the informal “minjem” finds “pinjam”."))
    topic = forms.ModelChoiceField(label=_("Topic"), queryset=Topic.objects.all(), required=False,
                                   empty_label=_("All topics"))

    def clean_text(self):
        text = self.cleaned_data["text"]
        if text and not transcript_search.query_words(text):
            raise forms.ValidationError(_("Nothing to search for: only punctuation or very common words (such as "
                                          "“yang” or “the”). Add a word the chat was about."))
        return text


class OfflineAnswerForm(forms.Form):
    conversation = forms.IntegerField()
    text = forms.CharField(max_length=4000, strip=True)


# What an administrator must change for someone to work the desk; the login page and the admin's
# user form say the same thing.
STAFF_STATUS_HINT = _("In the admin, Users → the person → Permissions: tick “Staff status” to make someone a "
                      "librarian. They can then log in to the dashboard, transcripts and FAQ; add them to queues "
                      "under Librarian profiles.")


class DeskLoginForm(AuthenticationForm):
    """Django's login form, refusing with a clear message an account that may not work the desk
    (instead of logging it in and bouncing it back here without a word)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "not_staff": _("The account “%(username)s” exists, but it may not work the reference desk yet. "
                       "Ask your library’s administrator:"),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.is_staff:
            raise forms.ValidationError(self.error_messages["not_staff"], code="not_staff",
                                        params={"username": user.get_username()})


class AuditFilterForm(PeriodFilterForm):
    """The audit trail's filters (reference.audit_views): days in the library's time zone."""

    user = LibrarianChoiceField(
        label=_("Staff member"), queryset=get_user_model().objects.filter(is_staff=True)
        .select_related("librarian_profile").order_by("username"),
        required=False, empty_label=_("Everyone"))
    action = forms.ChoiceField(label=_("Action"), required=False)
    conversation = forms.IntegerField(label=_("Conversation number"), required=False, min_value=1,
                                      max_value=2**63 - 1)

    def __init__(self, *args, **kwargs):
        from reference.models import AuditEvent

        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("All actions")), *AuditEvent.Action.choices]

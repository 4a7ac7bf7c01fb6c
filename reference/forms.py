from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from reference.models import Queue, Topic


class LibrarianChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        profile = getattr(user, "librarian_profile", None)
        return profile.display_name if profile else user.get_username()


class TranscriptFilterForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    queue = forms.ModelChoiceField(label=_("Queue"), queryset=Queue.objects.all(), required=False,
                                   empty_label=_("All queues"))
    librarian = LibrarianChoiceField(
        label=_("Librarian"),
        queryset=get_user_model().objects.filter(is_staff=True).select_related("librarian_profile"),
        required=False,
        empty_label=_("All librarians"),
    )
    text = forms.CharField(label=_("Text"), required=False, max_length=200)
    topic = forms.ModelChoiceField(label=_("Topic"), queryset=Topic.objects.all(), required=False,
                                   empty_label=_("All topics"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("“From” must not be after “To”."))
        return cleaned


class OfflineAnswerForm(forms.Form):
    conversation = forms.IntegerField()
    text = forms.CharField(max_length=4000, strip=True)

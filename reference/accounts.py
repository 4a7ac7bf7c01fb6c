"""Logging in to the desk: only accounts that may work it get in, and the others are told why."""

from django.contrib.auth.views import LoginView
from django.forms.forms import NON_FIELD_ERRORS

from reference.forms import STAFF_STATUS_HINT, DeskLoginForm


class DeskLoginView(LoginView):
    authentication_form = DeskLoginForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["refused_not_staff"] = context["form"].has_error(NON_FIELD_ERRORS, "not_staff")
        # Logged in already (as a patron-side or admin-made account) but sent here by a staff page.
        context["signed_in_not_staff"] = user.is_authenticated and not user.is_staff
        context["staff_status_hint"] = STAFF_STATUS_HINT
        return context

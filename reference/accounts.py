"""Logging in to the desk: only accounts that may work it get in, and the others are told why."""

import math

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.forms.forms import NON_FIELD_ERRORS
from django.shortcuts import render

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


def locked_out(request, *args, **kwargs):
    """django-axes' lockout answer (AXES_LOCKOUT_CALLABLE): the login page again, saying that this
    account is locked from this address, for how long, and who can unlock it sooner. 429, with
    Retry-After. (axes calls it with the response and credentials too; the request is enough.)"""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    username = request.POST.get("username", "")[:150] if request.method == "POST" else ""
    response = render(request, "registration/login.html", {
        "form": DeskLoginForm(request, initial={"username": username}),
        "locked_out": True,
        "lockout_minutes": max(1, math.ceil(seconds / 60)),
        "next": request.POST.get("next", "") if request.method == "POST" else "",
        "staff_status_hint": STAFF_STATUS_HINT,
    }, status=429)
    response["Retry-After"] = str(seconds)
    return response

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from reference.accounts import DeskLoginView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="reference:dashboard", permanent=False)),
    path("login/", DeskLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("widgets.urls")),
    path("", include("reference.urls")),
    path("", include("reference.faq.urls")),
    path("", include("reference.reports.urls")),
]

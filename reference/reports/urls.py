from django.urls import include, path

app_name = "reports"
urlpatterns = [
    path("", include("reference.reports.export_urls")),
]

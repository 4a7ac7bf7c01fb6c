from django.urls import path

from reference.reports import views

app_name = "reports"
urlpatterns = [
    path("staff/reports/", views.report_page, name="page"),
    path("staff/reports/monthly-summary", views.monthly_summary, name="monthly_summary"),
    path("staff/reports/export/<slug:name>.csv", views.export_table, name="export_table"),
]

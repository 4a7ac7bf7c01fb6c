from django.urls import path

from reference.reports import export_views, network_views, views

app_name = "reports"
urlpatterns = [
    path("staff/reports/", views.report_page, name="page"),
    path("staff/reports/monthly-summary", views.monthly_summary, name="monthly_summary"),
    # The transcripts before the tables: "transcripts" is not a report table.
    path("staff/reports/export/transcripts.csv", export_views.transcripts_csv, name="export_transcripts_csv"),
    path("staff/reports/export/transcripts.json", export_views.transcripts_json, name="export_transcripts_json"),
    path("staff/reports/export/<slug:name>.csv", views.export_table, name="export_table"),
    path("staff/reports/network/", network_views.network_page, name="network"),
    path("staff/reports/network/<slug:name>.csv", network_views.network_csv, name="network_csv"),
]

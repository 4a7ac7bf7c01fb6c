"""The transcript exports' URLs, included by reference/reports/urls.py (app "reports")."""

from django.urls import path

from reference.reports import export_views

urlpatterns = [
    path("staff/reports/export/transcripts.csv", export_views.transcripts_csv, name="export_transcripts_csv"),
    path("staff/reports/export/transcripts.json", export_views.transcripts_json, name="export_transcripts_json"),
]

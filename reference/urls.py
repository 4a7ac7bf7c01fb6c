from django.urls import include, path

from reference import audit_views, survey_views, views

app_name = "reference"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("staff/library/", views.choose_library, name="choose_library"),
    path("staff/offline/", views.offline_question_list, name="offline_questions"),
    path("staff/transcripts/", views.transcript_list, name="transcripts"),
    path("staff/transcripts/<id:pk>/", views.transcript_detail, name="transcript"),
    path("staff/topics/", include("reference.topic_views")),
    path("staff/audit/", audit_views.audit_trail, name="audit"),
    path("widget/attachments/", views.patron_upload, name="patron_upload"),
    path("staff/attachments/", views.staff_upload, name="staff_upload"),
    path("attachments/<str:token>/", views.attachment_download, name="attachment"),
    path("staff/history/", include("reference.history_views")),
    path("staff/canned/", include("reference.canned_views")),
    path("staff/patron-data/", include("reference.patron_data_views")),
    path("survey/<str:token>/", survey_views.survey_page, name="survey"),
]

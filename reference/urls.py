from django.urls import path

from reference import views

app_name = "reference"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("staff/offline/", views.offline_question_list, name="offline_questions"),
    path("staff/transcripts/", views.transcript_list, name="transcripts"),
    path("staff/transcripts/<int:pk>/", views.transcript_detail, name="transcript"),
]

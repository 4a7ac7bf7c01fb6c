from django.urls import path

from reference.faq import editor_views, views

app_name = "faq"
urlpatterns = [
    path("faq/", views.faq_index, name="index"),
    path("faq/search", views.faq_search_page, name="search"),
    path("faq/topic/<slug:slug>/", views.faq_topic, name="topic"),
    path("faq/<slug:slug>/", views.faq_detail, name="detail"),
    # Every library's FAQ at /l/<its slug>/faq/ (the first library's also at /faq/ above, and a
    # library with its own host at /faq/ there: reference.faq.libraries).
    path("l/<slug:library_slug>/faq/", views.faq_index, name="library_index"),
    path("l/<slug:library_slug>/faq/search", views.faq_search_page, name="library_search"),
    path("l/<slug:library_slug>/faq/topic/<slug:slug>/", views.faq_topic, name="library_topic"),
    path("l/<slug:library_slug>/faq/<slug:slug>/", views.faq_detail, name="library_detail"),
    path("api/faq/search", views.api_search, name="api_search"),
    path("api/faq/opt-out", views.api_opt_out, name="api_opt_out"),
    path("api/faq/<slug:slug>/answered", views.api_answered, name="api_answered"),
    path("staff/faq/missed/", views.staff_misses, name="staff_misses"),
    path("staff/faq/candidates/", views.staff_candidates, name="staff_candidates"),
    path("staff/faq/<id:pk>/", views.staff_edit, name="staff_edit"),
    path("staff/faq/preview", editor_views.staff_preview, name="staff_preview"),
    path("staff/transcripts/<id:pk>/faq-draft", views.staff_draft_from_transcript, name="draft_from_transcript"),
]

from django.urls import path

from widgets import views

app_name = "widgets"
urlpatterns = [
    path("widget.js", views.loader, name="loader"),
    path("widget/sites/<str:key>/config", views.site_config, name="config"),
    path("widget/sites/<str:key>/chat/", views.chat_panel, name="chat"),
    path("demo/", views.demo, name="demo"),
]

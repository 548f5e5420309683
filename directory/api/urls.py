from django.urls import path

from . import views

app_name = "directory-api"

urlpatterns = [
    path("", views.DirectoryView.as_view(), name="list"),
]

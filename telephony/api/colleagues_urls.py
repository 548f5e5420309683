"""The company directory's API, mounted at api/directory/ (its URL names kept from when directory held it)."""

from django.urls import path

from . import colleagues

app_name = "directory-api"

urlpatterns = [
    path("", colleagues.DirectoryView.as_view(), name="list"),
]

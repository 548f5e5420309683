"""Voicemail's API routes, mounted by config/urls.py in the one "api" namespace beside telephony's."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
# The users of telephony's API, created with their mailbox (voicemail sits above telephony).
router.register("users", views.UserViewSet, basename="user")
router.register("voicemail/messages", views.MessageViewSet, basename="voicemail-message")

urlpatterns = [
    path("voicemail/mailbox/", views.MailboxView.as_view(), name="voicemail-mailbox"),
    path("voicemail/mailbox/pin/", views.PinView.as_view(), name="voicemail-pin"),
    *router.urls,
]

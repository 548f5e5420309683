from django.urls import path
from rest_framework.routers import DefaultRouter

from directory.auth_views import GuardedObtainAuthToken
from voicemail.api import views as voicemail_views

from . import live_calls, views

app_name = "api"

router = DefaultRouter()
router.register("users", views.UserViewSet, basename="user")
router.register("extensions", views.ExtensionViewSet, basename="extension")
router.register("devices", views.DeviceViewSet, basename="device")
router.register("calls", views.CallViewSet, basename="call")
router.register("me/forwarding-rules", views.ForwardingRuleViewSet, basename="forwarding-rule")
router.register("me/remote-terminals", views.RemoteTerminalViewSet, basename="remote-terminal")
router.register("speed-dials", views.SpeedDialViewSet, basename="speed-dial")
router.register("barring-rules", views.BarringRuleViewSet, basename="barring-rule")
router.register("phone-numbers", views.PhoneNumberViewSet, basename="phone-number")
router.register("sites", views.SiteViewSet, basename="site")
router.register("voicemail/messages", voicemail_views.MessageViewSet, basename="voicemail-message")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("me/settings/", views.MySettingsView.as_view(), name="my-settings"),
    path("company/routing/", views.CompanyRoutingView.as_view(), name="company-routing"),
    path("auth/token/", GuardedObtainAuthToken.as_view(), name="token"),
    path("calls/<uuid:pk>/hangup/", live_calls.HangUpCallView.as_view(), name="call-hangup"),
    path("voicemail/mailbox/", voicemail_views.MailboxView.as_view(), name="voicemail-mailbox"),
    path("voicemail/mailbox/pin/", voicemail_views.PinView.as_view(), name="voicemail-pin"),
    *router.urls,
]

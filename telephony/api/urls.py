from django.urls import path
from rest_framework.routers import DefaultRouter

from directory.auth_views import GuardedObtainAuthToken

from . import live_calls, views

# Mounted with voicemail's api/urls.py in the one "api" namespace (config/urls.py).

router = DefaultRouter()
router.register("extensions", views.ExtensionViewSet, basename="extension")
router.register("devices", views.DeviceViewSet, basename="device")
router.register("calls", views.CallViewSet, basename="call")
router.register("me/forwarding-rules", views.ForwardingRuleViewSet, basename="forwarding-rule")
router.register("me/remote-terminals", views.RemoteTerminalViewSet, basename="remote-terminal")
router.register("speed-dials", views.SpeedDialViewSet, basename="speed-dial")
router.register("barring-rules", views.BarringRuleViewSet, basename="barring-rule")
router.register("phone-numbers", views.PhoneNumberViewSet, basename="phone-number")
router.register("sites", views.SiteViewSet, basename="site")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("me/settings/", views.MySettingsView.as_view(), name="my-settings"),
    path("company/routing/", views.CompanyRoutingView.as_view(), name="company-routing"),
    path("auth/token/", GuardedObtainAuthToken.as_view(), name="token"),
    path("calls/<uuid:pk>/hangup/", live_calls.HangUpCallView.as_view(), name="call-hangup"),
    *router.urls,
]

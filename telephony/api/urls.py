from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from . import views

app_name = "api"

router = DefaultRouter()
router.register("users", views.UserViewSet, basename="user")
router.register("extensions", views.ExtensionViewSet, basename="extension")
router.register("devices", views.DeviceViewSet, basename="device")
router.register("calls", views.CallViewSet, basename="call")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("auth/token/", obtain_auth_token, name="token"),
    *router.urls,
]

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="portal/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # MyIstra: a user's own phones and calls.
    path("me/", views.myistra, name="myistra"),
    path("me/history/", views.history, name="history"),
    path("me/live/", views.live_snapshot, name="live_snapshot"),
    path("me/devices/<int:device_id>/", views.device_settings, name="device_settings"),
    # myTelephony: a company admin's users and devices.
    path("admin-console/", views.mytelephony, name="mytelephony"),
    path("admin-console/users/new/", views.create_user, name="create_user"),
    path("admin-console/users/<int:user_id>/", views.user_detail, name="user_detail"),
    path("admin-console/users/<int:user_id>/devices/", views.add_device, name="add_device"),
    path(
        "admin-console/devices/<int:device_id>/reset-password/",
        views.reset_sip_password,
        name="reset_sip_password",
    ),
]

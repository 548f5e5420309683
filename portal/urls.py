from django.contrib.auth import views as auth_views
from django.urls import path, re_path

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
    path("me/call/", views.place_call, name="place_call"),
    path("me/devices/<int:device_id>/", views.device_settings, name="device_settings"),
    # MyIstra: a user's own voicemail.
    path("me/voicemail/", views.voicemail, name="voicemail"),
    path("me/voicemail/list/", views.voicemail_list, name="voicemail_list"),
    path("me/voicemail/unread/", views.voicemail_unread, name="voicemail_unread"),
    path("me/voicemail/settings/", views.voicemail_settings, name="voicemail_settings"),
    path("me/voicemail/greeting/", views.voicemail_greeting, name="voicemail_greeting"),
    path("me/voicemail/pin/", views.voicemail_pin, name="voicemail_pin"),
    path("me/voicemail/recordings/<str:kind>/", views.voicemail_recording, name="voicemail_recording"),
    path("me/voicemail/<uuid:message_id>/audio/", views.voicemail_audio, name="voicemail_audio"),
    path("me/voicemail/<uuid:message_id>/read/", views.voicemail_read, name="voicemail_read"),
    path("me/voicemail/<uuid:message_id>/delete/", views.voicemail_delete, name="voicemail_delete"),
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
    # Asterisk fetches greetings and messages here (voicemail.media signs the tokens: base64, ':', '.').
    re_path(
        r"^internal/media/(?P<token>[A-Za-z0-9_:.\-]+)\.wav$", views.internal_media, name="internal_media"
    ),
]

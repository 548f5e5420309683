from django.contrib.auth import views as auth_views
from django.urls import path, re_path, reverse_lazy

from directory.auth_views import GuardedAuthenticationForm

from . import directory_views, routing_views, security_views, settings_views, sites_views, users_views, views
from .password_reset import PortalPasswordResetForm

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="portal/login.html",
            authentication_form=GuardedAuthenticationForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # A forgotten portal password: an e-mailed link to choose a new one.
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="portal/password_reset_form.html",
            email_template_name="portal/password_reset_email.txt",
            subject_template_name="portal/password_reset_subject.txt",
            form_class=PortalPasswordResetForm,
            success_url=reverse_lazy("portal:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="portal/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="portal/password_reset_confirm.html",
            success_url=reverse_lazy("portal:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="portal/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    # MyIstra: a user's own phones and calls.
    path("me/", views.myistra, name="myistra"),
    path("me/history/", views.history, name="history"),
    path("me/live/", views.live_snapshot, name="live_snapshot"),
    path("me/call-banner/", views.call_banner, name="call_banner"),
    path("me/calls/<uuid:call_id>/hangup/", views.hang_up_call, name="hang_up_call"),
    path("me/call/", views.place_call, name="place_call"),
    path("me/quick-forward/", views.quick_forward, name="quick_forward"),
    path("me/devices/<int:device_id>/", views.device_settings, name="device_settings"),
    # MyIstra: presence and do not disturb, forwarding rules, call settings.
    path("me/dnd/", settings_views.set_dnd, name="set_dnd"),
    path("me/presence/", settings_views.set_presence, name="set_presence"),
    path("me/status/", settings_views.status_snapshot, name="status_snapshot"),
    path("me/status-bar/", settings_views.status_bar, name="status_bar"),
    path("me/forwarding/", settings_views.forwarding, name="forwarding"),
    path("me/forwarding/list/", settings_views.forwarding_list, name="forwarding_list"),
    path("me/forwarding/new/", settings_views.forwarding_create, name="forwarding_create"),
    path("me/forwarding/profiles/<str:presence>/", settings_views.status_profile, name="status_profile"),
    path("me/forwarding/<int:rule_id>/", settings_views.forwarding_edit, name="forwarding_edit"),
    path(
        "me/forwarding/<int:rule_id>/enabled/", settings_views.forwarding_enabled, name="forwarding_enabled"
    ),
    path("me/forwarding/<int:rule_id>/move/", settings_views.forwarding_move, name="forwarding_move"),
    path("me/forwarding/<int:rule_id>/delete/", settings_views.forwarding_delete, name="forwarding_delete"),
    path("me/settings/", settings_views.settings_page, name="settings"),
    path("me/settings/numbers/", settings_views.settings_numbers, name="settings_numbers"),
    path("me/settings/screening/", settings_views.settings_screening, name="settings_screening"),
    path(
        "me/settings/phones/<int:device_id>/call-waiting/",
        settings_views.phone_call_waiting,
        name="phone_call_waiting",
    ),
    path("me/settings/remote-terminals/", settings_views.remote_terminal_add, name="remote_terminal_add"),
    path(
        "me/settings/remote-terminals/<int:device_id>/",
        settings_views.remote_terminal_update,
        name="remote_terminal_update",
    ),
    path(
        "me/settings/remote-terminals/<int:device_id>/delete/",
        settings_views.remote_terminal_delete,
        name="remote_terminal_delete",
    ),
    # MyIstra: a user's own voicemail.
    path("me/voicemail/", views.voicemail, name="voicemail"),
    path("me/voicemail/list/", views.voicemail_list, name="voicemail_list"),
    path("me/voicemail/unread/", views.voicemail_unread, name="voicemail_unread"),
    path("me/voicemail/badge/", views.voicemail_badge, name="voicemail_badge"),
    path("me/voicemail/settings/", views.voicemail_settings, name="voicemail_settings"),
    path("me/voicemail/greeting/", views.voicemail_greeting, name="voicemail_greeting"),
    path("me/voicemail/pin/", views.voicemail_pin, name="voicemail_pin"),
    path("me/voicemail/recordings/<str:kind>/", views.voicemail_recording, name="voicemail_recording"),
    path("me/voicemail/<uuid:message_id>/audio/", views.voicemail_audio, name="voicemail_audio"),
    path("me/voicemail/<uuid:message_id>/read/", views.voicemail_read, name="voicemail_read"),
    path("me/voicemail/<uuid:message_id>/delete/", views.voicemail_delete, name="voicemail_delete"),
    # myCompany: the directory
    path("directory/", directory_views.directory, name="directory"),
    path("directory/status/", directory_views.directory_status, name="directory_status"),
    path("directory/call/", directory_views.directory_call, name="directory_call"),
    # myTelephony: a company admin's users and devices.
    path("admin-console/", views.mytelephony, name="mytelephony"),
    path("admin-console/users/new/", views.create_user, name="create_user"),
    path("admin-console/users/<int:user_id>/", views.user_detail, name="user_detail"),
    path("admin-console/users/<int:user_id>/devices/", views.add_device, name="add_device"),
    path("admin-console/users/<int:user_id>/edit/", users_views.user_edit, name="user_edit"),
    path("admin-console/users/<int:user_id>/password/", users_views.user_password, name="user_password"),
    path("admin-console/users/<int:user_id>/active/", users_views.user_active, name="user_active"),
    path("admin-console/users/<int:user_id>/delete/", users_views.user_delete, name="user_delete"),
    path("admin-console/devices/<int:device_id>/enabled/", users_views.device_enabled, name="device_enabled"),
    path("admin-console/devices/<int:device_id>/delete/", users_views.device_delete, name="device_delete"),
    path(
        "admin-console/devices/<int:device_id>/reset-password/",
        views.reset_sip_password,
        name="reset_sip_password",
    ),
    # myTelephony: the company's call routing.
    path("admin-console/routing/", routing_views.routing, name="routing"),
    path("admin-console/routing/policy/", routing_views.routing_policy, name="routing_policy"),
    path("admin-console/routing/dial-codes/", routing_views.routing_dial_codes, name="routing_dial_codes"),
    path("admin-console/routing/speed-dials/", routing_views.speed_dial_create, name="speed_dial_create"),
    path(
        "admin-console/routing/speed-dials/<int:speed_dial_id>/",
        routing_views.speed_dial_edit,
        name="speed_dial_edit",
    ),
    path(
        "admin-console/routing/speed-dials/<int:speed_dial_id>/delete/",
        routing_views.speed_dial_delete,
        name="speed_dial_delete",
    ),
    path("admin-console/routing/barring/", routing_views.barring_create, name="barring_create"),
    path("admin-console/routing/barring/<int:rule_id>/", routing_views.barring_edit, name="barring_edit"),
    path(
        "admin-console/routing/barring/<int:rule_id>/delete/",
        routing_views.barring_delete,
        name="barring_delete",
    ),
    path("admin-console/routing/numbers/", routing_views.phone_number_create, name="phone_number_create"),
    path(
        "admin-console/routing/numbers/<int:number_id>/",
        routing_views.phone_number_edit,
        name="phone_number_edit",
    ),
    path(
        "admin-console/routing/numbers/<int:number_id>/delete/",
        routing_views.phone_number_delete,
        name="phone_number_delete",
    ),
    # myTelephony: sites
    path("admin-console/sites/", sites_views.sites, name="sites"),
    path("admin-console/sites/new/", sites_views.site_create, name="site_create"),
    path("admin-console/sites/<int:site_id>/", sites_views.site_edit, name="site_edit"),
    path("admin-console/sites/<int:site_id>/delete/", sites_views.site_delete, name="site_delete"),
    path("admin-console/users/<int:user_id>/site/", sites_views.user_site, name="user_site"),
    # myTelephony: blocked SIP sources and toll-fraud limits.
    path("admin-console/security/", security_views.security, name="security"),
    path(
        "admin-console/security/blocks/<int:block_id>/lift/",
        security_views.lift_sip_block,
        name="lift_sip_block",
    ),
    # Asterisk fetches greetings and messages here (voicemail.media signs the tokens: base64, ':', '.').
    re_path(
        r"^internal/media/(?P<token>[A-Za-z0-9_:.\-]+)\.wav$", views.internal_media, name="internal_media"
    ),
]

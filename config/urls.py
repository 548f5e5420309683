from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from directory.auth_views import GuardedAdminAuthenticationForm
from telephony.api import urls as telephony_api
from voicemail.api import urls as voicemail_api

# The operators' admin sees every company: its sign-in is guarded like the portal's (J2).
admin.site.login_form = GuardedAdminAuthenticationForm

urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/directory/", include("telephony.api.colleagues_urls")),
    path("api/security/", include(("sipguard.api", "sipguard"), namespace="sipguard")),
    # One "api" namespace: each app mounts its own api/urls.py into it.
    path("api/", include(([*telephony_api.urlpatterns, *voicemail_api.urlpatterns], "api"))),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("portal.urls")),
]
if settings.DJANGO_ADMIN_PATH:
    # DJANGO_ADMIN_PATH="" serves no admin at all (a production platform may do without one).
    urlpatterns.insert(0, path(settings.DJANGO_ADMIN_PATH, admin.site.urls))
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

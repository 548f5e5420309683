from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


class UserLanguageMiddleware:
    """Portals speak the logged-in user's language (theirs, else their company's)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = user.effective_language
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        return response


class ContentSecurityPolicyMiddleware:
    """Every response says where its page may load scripts, styles and media from
    (settings.CONTENT_SECURITY_POLICY): an injected <script> or inline handler does not run.

    The API's documentation page (Swagger UI) loads its viewer from a CDN: it keeps its own policy."""

    EXEMPT_PREFIXES = ("/api/docs/",)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and not request.path.startswith(self.EXEMPT_PREFIXES):
            response.headers.setdefault("Content-Security-Policy", policy)
        return response

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation

logger = logging.getLogger(__name__)


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


class HtmxRedirectMiddleware:
    """A form htmx posted in place is answered, when saved, by a redirect. Back to the page it is on,
    htmx follows it and takes the form's card from the page (with the message that says it is saved).
    To another page (a rule edited, back to the list), the browser goes there: HX-Redirect."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.headers.get("HX-Request") != "true" or response.status_code not in (301, 302, 303):
            return response
        target = response["Location"]
        here = urlsplit(request.headers.get("HX-Current-URL", "")).path
        if urlsplit(target).path == here:
            return response
        redirect = HttpResponse(status=204)
        redirect["HX-Redirect"] = target
        return redirect


class BrandedErrorsMiddleware:
    """A missing page (404) or a forbidden one (403) is shown in the portal's own page, with a way
    back. With DEBUG off Django renders templates/404.html and 403.html itself; with DEBUG on (`make
    run`) it would list every URL instead, so this middleware renders them, and a crash's branded
    page too (its traceback goes to the log)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        html = response.get("Content-Type", "").startswith("text/html")
        if settings.DEBUG and html and response.status_code in (403, 404):
            return render(request, f"{response.status_code}.html", status=response.status_code)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not settings.DEBUG or isinstance(exception, Http404 | PermissionDenied):
            return None  # Django's handlers; 403 and 404 are branded on the way out (__call__)
        logger.error("Crash in %s %s", request.method, request.path, exc_info=exception)
        return render(request, "500.html", status=500)


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

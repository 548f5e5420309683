from django.contrib import admin

from .models import SipBlock


@admin.register(SipBlock)
class SipBlockAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The platform operator sees every block, including those that tried no company's account."""

    list_display = ("address", "reason", "failures", "blocked_at", "expires_at", "lifted_at")
    search_fields = ("address",)
    readonly_fields = ("blocked_at",)
    filter_horizontal = ("companies",)

"""What the platform operator sees of each company's telephony in the Django admin, read only: every
write goes through `telephony.actions`, which checks the numbering plan and provisions Asterisk."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Call, Device, Extension, PhoneNumber


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Extension)
class ExtensionAdmin(ReadOnlyAdmin):
    list_display = ("number", "company", "user")
    list_filter = ("company",)
    list_select_related = ("company", "user")
    search_fields = ("number",)


@admin.register(Device)
class DeviceAdmin(ReadOnlyAdmin):
    list_display = ("label", "kind", "sip_username", "number", "company", "user", "enabled")
    list_filter = ("company", "kind", "enabled")
    list_select_related = ("company", "user")
    search_fields = ("sip_username", "number", "label")
    exclude = ("sip_ha1",)


@admin.register(PhoneNumber)
class PhoneNumberAdmin(ReadOnlyAdmin):
    list_display = ("number", "company", "destination", "user")
    list_filter = ("company", "destination")
    list_select_related = ("company", "user")
    search_fields = ("number",)


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "company", "caller_number", "dialled_number", "state", "outcome")
    list_filter = ("company", "state")
    list_select_related = ("company",)
    date_hierarchy = "started_at"

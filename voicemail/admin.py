"""The voicemail boxes in the platform operator's Django admin, read only (a PIN is changed by its
owner, from a phone or MyIstra); messages stay their owners' own and are not shown."""

from django.contrib import admin

from telephony.admin import ReadOnlyAdmin

from .models import Mailbox


@admin.register(Mailbox)
class MailboxAdmin(ReadOnlyAdmin):
    list_display = ("user", "company", "enabled", "notify")
    list_filter = ("company", "enabled")
    list_select_related = ("user", "company")
    exclude = ("pin_hash",)

"""The platform operator's Django admin: companies, with the toll-fraud limits only it may set."""

from django.contrib import admin

from .models import Company


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "slug", "max_outside_calls", "max_international_minutes")
    search_fields = ("name", "slug")
    fieldsets = (
        (None, {"fields": ("name", "slug", "timezone", "language", "country_code", "main_number")}),
        ("Toll-fraud limits", {"fields": ("max_outside_calls", "max_international_minutes")}),
    )

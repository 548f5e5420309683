"""The platform operator's Django admin (where a user without a company lands on signing in):
companies, with the toll-fraud limits only it may set, their sites and their users."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import Company, Site, User


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "slug", "max_outside_calls", "max_international_minutes")
    search_fields = ("name", "slug")
    fieldsets = (
        (None, {"fields": ("name", "slug", "timezone", "language", "country_code", "main_number")}),
        ("Toll-fraud limits", {"fields": ("max_outside_calls", "max_international_minutes")}),
    )


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "company", "main_number", "timezone")
    list_filter = ("company",)
    search_fields = ("name", "main_number")
    raw_id_fields = ("receptionist",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):  # type: ignore[type-arg]
    """Sign-in, roles and companies. A user's extension and phones are made in myTelephony (or the
    API), which checks the numbering plan and provisions Asterisk."""

    list_display = ("username", "first_name", "last_name", "company", "role", "is_active", "is_staff")
    list_filter = ("company", "role", "is_active", "is_staff")
    list_select_related = ("company",)
    raw_id_fields = ("site",)
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("Istra", {"fields": ("company", "role", "site", "language")}),
    )

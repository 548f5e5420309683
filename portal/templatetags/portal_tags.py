from django import template

from directory.models import User
from portal.voicemails import unread_count

register = template.Library()


@register.filter
def mmss(seconds: int | None) -> str:
    """A talk time as m:ss, or h:mm:ss past the hour, like the live banner's counter."""
    if seconds is None:
        return ""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"


@register.simple_tag(takes_context=True)
def voicemail_unread(context: template.Context) -> int:
    """The nav badge's count on every portal page; live.js keeps it current afterwards."""
    user = context.get("user")
    if not isinstance(user, User) or user.company_id is None:
        return 0
    return unread_count(user)


# Which of the three portals a page's section belongs to: the menu names it and shows its pages.
PORTALS = {
    "myistra": ("myistra", "MyIstra"),
    "forwarding": ("myistra", "MyIstra"),
    "settings": ("myistra", "MyIstra"),
    "voicemail": ("myistra", "MyIstra"),
    "history": ("myistra", "MyIstra"),
    "directory": ("mycompany", "myCompany"),
    "mytelephony": ("mytelephony", "myTelephony"),
    "routing": ("mytelephony", "myTelephony"),
    "sites": ("mytelephony", "myTelephony"),
    "security": ("mytelephony", "myTelephony"),
}


@register.simple_tag
def portal_of(section: str | None) -> dict[str, str] | None:
    """The portal a page is in ({"key", "name"}), or None outside them (login, error pages)."""
    if not section or section not in PORTALS:
        return None
    key, name = PORTALS[section]
    return {"key": key, "name": name}

from django import template

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

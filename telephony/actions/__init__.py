"""Writes that change a company's telephony, one module per subject: devices, users, sites,
dial_plan (dial codes, speed dials, barring, public numbers), call_settings, forwarding."""

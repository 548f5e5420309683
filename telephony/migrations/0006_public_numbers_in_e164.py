"""Public numbers (DIDs, company and site numbers) in E.164, as they are now stored and compared:
a number kept as 0150000100 or 33150000100 becomes +33150000100 (the company's country code). A
number whose E.164 form another row already holds is left as it was, and logged."""

import logging

from django.db import migrations

logger = logging.getLogger(__name__)


def e164(number, country_code):
    # A frozen copy of telephony.routing.public_number.
    number = "".join(number.split())
    if not number or number.startswith("+") or not number.isdigit():
        return number
    if number.startswith("00"):
        return "+" + number[2:]
    if number.startswith("0"):
        return f"+{country_code}{number[1:]}"
    return "+" + number


def forwards(apps, schema_editor):
    Company = apps.get_model("directory", "Company")
    Site = apps.get_model("directory", "Site")
    PhoneNumber = apps.get_model("telephony", "PhoneNumber")
    taken = set(PhoneNumber.objects.values_list("number", flat=True))
    for phone_number in PhoneNumber.objects.select_related("company"):
        number = e164(phone_number.number, phone_number.company.country_code)
        if number == phone_number.number:
            continue
        if number in taken:
            logger.warning("public number %s is also held as %s: left as it is", phone_number.number, number)
            continue
        taken.add(number)
        phone_number.number = number
        phone_number.save(update_fields=["number"])
    for company in Company.objects.exclude(main_number=""):
        number = e164(company.main_number, company.country_code)
        if number != company.main_number:
            company.main_number = number
            company.save(update_fields=["main_number"])
    for site in Site.objects.exclude(main_number="").select_related("company"):
        number = e164(site.main_number, site.company.country_code)
        if number != site.main_number:
            site.main_number = number
            site.save(update_fields=["main_number"])


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0004_site"),
        ("telephony", "0005_routing_version_notify"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

from django.core.management.base import BaseCommand
from django.db import transaction

from directory.choices import Role
from directory.models import Company
from telephony.actions.sites import create_site, set_user_site
from telephony.models import BarringRule, PhoneNumber, SpeedDial
from voicemail.actions import create_user_with_mailbox, ensure_mailbox, set_pin

PORTAL_PASSWORD = "istra-demo"
VOICEMAIL_PIN = "2580"

# company slug -> (company number, {login: public number}): calls from the carrier to these reach
# their users; outside calls show them (A3, A4).
PUBLIC_NUMBERS = {
    "acme": ("+33140000000", {"alice": "+33140000100", "bob": "+33140000101"}),
    "globex": ("+33150000000", {"gina": "+33150000100"}),
}

# company slug -> [(site, time zone, main number, receptionist login, [logins])]: one extension plan
# across the sites (the voice VPN, C5); each site shows its own number and rings its receptionist.
SITES = {
    "acme": [
        ("Paris", "Europe/Paris", "+33140000000", None, ["alice", "bob"]),
        ("Lyon", "Europe/Paris", "+33472000000", "carol", ["carol", "dave"]),
    ],
}

# company slug, name, language, [(login, first, last, extension, role)]
DEMO = [
    (
        "acme",
        "Acme",
        "en",
        [
            ("alice", "Alice", "Martin", "100", Role.ADMIN),
            ("bob", "Bob", "Durand", "101", Role.USER),
            ("carol", "Carol", "Petit", "102", Role.USER),
            ("dave", "Dave", "Moreau", "103", Role.USER),
        ],
    ),
    (
        "globex",
        "Globex",
        "fr",
        [
            ("gina", "Gina", "Lefebvre", "100", Role.ADMIN),
            ("gus", "Gus", "Roux", "101", Role.USER),
            ("gail", "Gail", "Fournier", "102", Role.USER),
        ],
    ),
]


def demo_sip_password(login: str, extension: str) -> str:
    return f"{login}-{extension}-sip"


class Command(BaseCommand):
    help = "Create the demo companies Acme and Globex with their users and SIP phones (idempotent)."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        for slug, name, language, people in DEMO:
            company, created = Company.objects.get_or_create(
                slug=slug, defaults={"name": name, "language": language}
            )
            if not created:
                self.stdout.write(f"{name} already exists; left as it is.")
                continue
            for login, first, last, extension, role in people:
                user, credentials = create_user_with_mailbox(
                    company=company,
                    username=login,
                    first_name=first,
                    last_name=last,
                    extension=extension,
                    role=role,
                    password=PORTAL_PASSWORD,
                    sip_password=demo_sip_password(login, extension),
                    email=f"{login}@{slug}.example",
                )
                assert credentials is not None
                set_pin(mailbox=ensure_mailbox(user=user), pin=VOICEMAIL_PIN)
                self.stdout.write(
                    f"{name:7} {login:6} ext {extension}  SIP {credentials.username} / {credentials.password}"
                )
            self.routing_demo(company)
            self.sites_demo(company)

    def routing_demo(self, company: Company) -> None:
        """What an administrator sets first: public numbers, the receptionist, a speed dial, and
        premium-rate numbers barred (myTelephony > Call routing shows and changes them)."""
        main, numbers = PUBLIC_NUMBERS[company.slug]
        company.main_number = main
        company.receptionist = company.users.filter(role=Role.ADMIN).first()
        company.save()
        for login, number in numbers.items():
            user = company.users.get(username=login)
            PhoneNumber.objects.create(
                company=company, number=number, destination=PhoneNumber.Destination.USER, user=user
            )
        SpeedDial.objects.create(company=company, short_number="230", number="0145678900", label="Mr Jones")
        BarringRule.objects.create(company=company, direction="out", number_class="premium")

    def sites_demo(self, company: Company) -> None:
        """Acme works from Paris (the company number) and Lyon (a number of its own)."""
        for name, timezone, main_number, receptionist, logins in SITES.get(company.slug, []):
            site = create_site(
                company=company,
                name=name,
                timezone=timezone,
                main_number=main_number,
                receptionist=company.users.get(username=receptionist) if receptionist else None,
            )
            for login in logins:
                set_user_site(user=company.users.get(username=login), site=site)

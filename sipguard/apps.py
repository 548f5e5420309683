from django.apps import AppConfig


class SipguardConfig(AppConfig):
    name = "sipguard"
    verbose_name = "SIP guard"

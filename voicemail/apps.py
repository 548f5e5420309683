from django.apps import AppConfig


class VoicemailConfig(AppConfig):
    name = "voicemail"
    verbose_name = "Voicemail"

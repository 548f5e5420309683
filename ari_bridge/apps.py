from django.apps import AppConfig


class AriBridgeConfig(AppConfig):
    name = "ari_bridge"
    verbose_name = "ARI bridge"

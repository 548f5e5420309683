from django.core.management.base import BaseCommand, CommandParser

from ari_bridge.asterisk import AsteriskInstance


class Command(BaseCommand):
    help = "Start, stop or inspect the platform's own Asterisk (see bin/install-asterisk)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["start", "stop", "restart", "status", "render", "cli"])
        parser.add_argument("cli_command", nargs="?", default="")

    def handle(self, *args: object, **options: str) -> None:
        instance = AsteriskInstance()
        action = options["action"]
        if action in {"stop", "restart"}:
            instance.stop()
        if action in {"start", "restart"}:
            started = instance.start()
            self.stdout.write(
                f"Asterisk running (pid {started}), SIP {instance.sip_host}:{instance.sip_port} UDP"
            )
        elif action == "render":
            instance.render()
        elif action == "status":
            pid = instance.pid()
            self.stdout.write(f"running, pid {pid}" if pid else "stopped")
        elif action == "cli":
            self.stdout.write(instance.cli(options["cli_command"]))

"""The platform's own Asterisk 22: render its configuration from templates/asterisk/, start, stop.

Asterisk runs inside a Debian sid chroot built once by bin/install-asterisk and cached outside the
checkout. Several instances (the demo platform, the test suite) share one chroot: each has its own
configuration, database, spool, log and run folders under /srv/istra/<name> inside the chroot, and
its own ports.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from base64 import b64encode
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.template import engines

BASE_DIR = Path(settings.BASE_DIR)
TEMPLATE_DIR = BASE_DIR / "templates" / "asterisk"
DIAL_PATTERNS = ("_X!", "_[*#+]!", "_[a-zA-Z]!")


class AsteriskError(RuntimeError):
    pass


@dataclass
class AsteriskInstance:
    name: str = field(default_factory=lambda: settings.ASTERISK_INSTANCE)
    chroot: Path = field(default_factory=lambda: Path(settings.ASTERISK_CHROOT))
    sip_host: str = field(default_factory=lambda: settings.ASTERISK_SIP_HOST)
    sip_port: int = field(default_factory=lambda: settings.ASTERISK_SIP_PORT)
    tls_port: int = field(default_factory=lambda: settings.ASTERISK_SIP_TLS_PORT)
    rtp_start: int = field(default_factory=lambda: settings.ASTERISK_RTP_START)
    rtp_end: int = field(default_factory=lambda: settings.ASTERISK_RTP_END)
    ari_url: str = field(default_factory=lambda: settings.ARI_URL)
    ari_username: str = field(default_factory=lambda: settings.ARI_USERNAME)
    ari_password: str = field(default_factory=lambda: settings.ARI_PASSWORD)
    ari_app: str = field(default_factory=lambda: settings.ARI_APP)
    language: str = "en"

    @property
    def inner_dir(self) -> str:
        """The instance's folder as Asterisk sees it, inside the chroot."""
        return f"/srv/istra/{self.name}"

    @property
    def outer_dir(self) -> Path:
        return self.chroot / self.inner_dir.lstrip("/")

    @property
    def pid_file(self) -> Path:
        return self.outer_dir / "asterisk.pid"

    @property
    def log_file(self) -> Path:
        return self.outer_dir / "log" / "console.log"

    def _tls_files(self, keys: Path) -> tuple[Path, Path]:
        """The TLS certificate and key Asterisk presents, copied into the chroot (Asterisk sees nothing
        outside it): the operator's (ASTERISK_TLS_CERT/KEY), else a self-signed pair made once here."""
        keys.mkdir(parents=True, exist_ok=True)
        cert, key = keys / "sip.crt", keys / "sip.key"
        if settings.ASTERISK_TLS_CERT and settings.ASTERISK_TLS_KEY:
            shutil.copyfile(settings.ASTERISK_TLS_CERT, cert)
            shutil.copyfile(settings.ASTERISK_TLS_KEY, key)
        elif not (cert.exists() and key.exists()):
            name = self.sip_host
            alt = f"IP:{name}" if name.replace(".", "").isdigit() or ":" in name else f"DNS:{name}"
            subprocess.run(
                [
                    "openssl",
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "825",
                    "-subj",
                    f"/CN={name}/O=Istra self-signed",
                    "-addext",
                    f"subjectAltName={alt}",
                    "-keyout",
                    str(key),
                    "-out",
                    str(cert),
                ],
                check=True,
                capture_output=True,
            )
        os.chmod(key, 0o600)
        return cert, key

    def _ari_host_port(self) -> tuple[str, int]:
        rest = self.ari_url.split("://", 1)[1].split("/", 1)[0]
        host, _, port = rest.rpartition(":")
        return host, int(port)

    def render(self) -> None:
        """Write the instance's configuration from the templates kept in the repository."""
        if not (self.chroot / "usr/sbin/asterisk").exists():
            raise AsteriskError(f"No Asterisk chroot at {self.chroot}: run bin/install-asterisk first.")
        modules = glob.glob(str(self.chroot / "usr/lib/*/asterisk/modules"))
        if not modules:
            raise AsteriskError("Asterisk modules folder not found in the chroot.")
        dirs = {
            "etc": f"{self.inner_dir}/etc",
            "lib": f"{self.inner_dir}/lib",
            "spool": f"{self.inner_dir}/spool",
            "log": f"{self.inner_dir}/log",
            "run": f"{self.inner_dir}/run",
            "modules": "/" + str(Path(modules[0]).relative_to(self.chroot)),
        }
        ari_host, ari_port = self._ari_host_port()
        tls_cert = tls_key = ""
        if self.tls_port:
            cert_path, key_path = self._tls_files(self.outer_dir / "keys")
            tls_cert = "/" + str(cert_path.relative_to(self.chroot))
            tls_key = "/" + str(key_path.relative_to(self.chroot))
        context = {
            "dirs": dirs,
            "sip_host": self.sip_host,
            "sip_port": self.sip_port,
            "tls_port": self.tls_port,
            "tls_cert": tls_cert,
            "tls_key": tls_key,
            "carrier_secret_header": settings.CARRIER_SECRET_HEADER,
            "carrier_secret": settings.CARRIER_SECRET,
            "carrier_patterns": ("_X!", "_+X!"),
            "rtp_start": self.rtp_start,
            "rtp_end": self.rtp_end,
            "ari_host": ari_host,
            "ari_port": ari_port,
            "ari_username": self.ari_username,
            "ari_password": self.ari_password,
            "ari_app": self.ari_app,
            "realm": settings.SIP_REALM,
            "language": self.language,
            "country": "fr",
            "dial_patterns": DIAL_PATTERNS,
        }
        engine = engines["django"]
        for key in ("etc", "lib", "spool", "log", "run"):
            (self.chroot / dirs[key].lstrip("/")).mkdir(parents=True, exist_ok=True)
        # ARI recordings (voicemail messages) are written here until the bridge collects them.
        (self.chroot / dirs["spool"].lstrip("/") / "recording").mkdir(exist_ok=True)
        etc = self.chroot / dirs["etc"].lstrip("/")
        for template in sorted(TEMPLATE_DIR.glob("*.conf")):
            text = engine.from_string(template.read_text()).render(context)
            (etc / template.name).write_text(text)
        # Asterisk drops to the asterisk user: it must own its writable folders.
        subprocess.run(
            [
                "chroot",
                str(self.chroot),
                "chown",
                "-R",
                "asterisk:asterisk",
                self.inner_dir,
                "/var/lib/asterisk",
                "/var/spool/asterisk",
                "/var/log/asterisk",
            ],
            check=True,
        )
        os.chmod(etc / "ari.conf", 0o640)

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def ari_ready(self) -> bool:
        request = urllib.request.Request(f"{self.ari_url}/ari/asterisk/info")
        token = b64encode(f"{self.ari_username}:{self.ari_password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def start(self, timeout: float = 30) -> int:
        """Start Asterisk in the background (or leave it running) and wait until ARI answers."""
        pid = self.pid()
        if pid is None:
            self.render()
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            log = open(self.log_file, "ab")  # noqa: SIM115  (the child keeps it)
            process = subprocess.Popen(
                [
                    "chroot",
                    str(self.chroot),
                    "/usr/sbin/asterisk",
                    "-f",
                    "-U",
                    "asterisk",
                    "-G",
                    "asterisk",
                    "-C",
                    f"{self.inner_dir}/etc/asterisk.conf",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log.close()
            pid = process.pid
            self.pid_file.write_text(str(pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ari_ready():
                return pid
            if self.pid() is None:
                raise AsteriskError(f"Asterisk exited at start; see {self.log_file}")
            time.sleep(0.1)
        raise AsteriskError(
            f"Asterisk did not answer on {self.ari_url} within {timeout}s; see {self.log_file}"
        )

    def cli(self, command: str) -> str:
        result = subprocess.run(
            [
                "chroot",
                str(self.chroot),
                "/usr/sbin/asterisk",
                "-C",
                f"{self.inner_dir}/etc/asterisk.conf",
                "-rx",
                command,
            ],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return result.stdout

    def stop(self, timeout: float = 15) -> None:
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pid() is None:
                break
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # reap it if it is our own child
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)

    def wipe(self) -> None:
        """Forget everything the instance stored (registrations in its astdb, spool, logs)."""
        self.stop()
        shutil.rmtree(self.outer_dir, ignore_errors=True)

"""Production (debug off) never runs with development secrets, passes Django's deployment checks for
HTTPS, sends a Content-Security-Policy, and its images are fit to run (J2)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ("DJANGO_SECRET_KEY", "ARI_PASSWORD")


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """manage.py with the production settings module and this environment (secrets left out unless given)."""
    base = {
        k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith(("DJANGO_", "PYTEST"))
    }
    base.update({"DJANGO_SETTINGS_MODULE": "config.settings", **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60
    )


PRODUCTION = {
    "DJANGO_DEBUG": "no",
    "DJANGO_SECRET_KEY": "k" + "9f3c1e8a7b6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4",
    "ARI_PASSWORD": "a-real-ari-password",
    "DJANGO_ALLOWED_HOSTS": "pbx.example.com",
}


@pytest.mark.parametrize(
    ("missing", "kept"),
    [("DJANGO_SECRET_KEY", "ARI_PASSWORD"), ("ARI_PASSWORD", "DJANGO_SECRET_KEY")],
)
def test_production_refuses_to_start_with_a_development_secret(missing: str, kept: str) -> None:
    result = manage("check", DJANGO_DEBUG="no", **{kept: PRODUCTION[kept]})

    assert result.returncode != 0
    assert f"{missing} still has the development default" in result.stderr


def test_production_refuses_the_development_ari_password_written_out() -> None:
    env = {**PRODUCTION, "ARI_PASSWORD": "dev-only-ari-password"}
    result = manage("check", **env)
    assert result.returncode != 0 and "ARI_PASSWORD" in result.stderr


def test_development_still_runs_with_its_defaults() -> None:
    assert manage("check").returncode == 0


def test_the_deployment_checks_find_nothing_about_https_when_configured_for_production() -> None:
    result = manage("check", "--deploy", **PRODUCTION)

    output = result.stdout + result.stderr
    found = set(re.findall(r"security\.W\d+", output))
    assert not found & {
        "security.W004",
        "security.W008",
        "security.W012",
        "security.W016",
        "security.W009",
    }, output


def test_every_page_carries_a_content_security_policy(client: Client, db: None) -> None:
    response = client.get(reverse("portal:login"))

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy


def test_the_app_image_has_ffmpeg_and_does_not_run_as_root() -> None:
    dockerfile = (ROOT / "deploy" / "app.Dockerfile").read_text()

    assert re.search(r"apt-get install[^\n]*\bffmpeg\b", dockerfile)
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")


def test_the_asterisk_image_writes_its_ari_password_build_argument_into_ari_conf() -> None:
    dockerfile = (ROOT / "deploy" / "asterisk.Dockerfile").read_text()
    compose = (ROOT / "docker-compose.yml").read_text()

    assert "ARI_PASSWORD: ${ARI_PASSWORD:?set ARI_PASSWORD}" in compose
    assert re.search(r"^ARG ARI_PASSWORD$", dockerfile, re.MULTILINE)
    assert re.search(r"sed [^\n]*password[^\n]*\$\{ARI_PASSWORD\}[^\n]*ari\.conf", dockerfile)

"""The web server (HTTP and WebSocket): `python -m config.serve --host H --port P`.

uvicorn, trusting a request's X-Forwarded-For and X-Forwarded-Proto only from the reverse proxies
named by TRUSTED_PROXIES (addresses or networks, comma-separated). uvicorn's own default trusts
them from 127.0.0.1, so that anyone on the machine, or a local proxy passing the header through,
could pose as any address and escape the sign-in guard's per-address lock (directory/login_guard.py).
"""

from __future__ import annotations

import argparse
import os

import uvicorn


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    trusted = list(settings.TRUSTED_PROXIES)
    uvicorn.run(
        "config.asgi:application",
        host=args.host,
        port=args.port,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        server_header=False,
    )


if __name__ == "__main__":
    main()

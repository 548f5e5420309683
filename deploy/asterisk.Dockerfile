# Asterisk 22 comes from Debian sid; its configuration is rendered from templates/asterisk/ by
# `python manage.py asterisk render` on a development machine, or written by hand from them.
FROM debian:sid-slim
RUN apt-get update && apt-get install -y --no-install-recommends asterisk asterisk-core-sounds-en-wav \
    asterisk-core-sounds-fr-wav asterisk-moh-opsound-wav && rm -rf /var/lib/apt/lists/*
COPY deploy/asterisk-etc/ /etc/asterisk/
# The ARI password is the platform's (docker-compose.yml passes ARI_PASSWORD): written into ari.conf
# whatever was rendered there; the build fails without one, or with the development default.
ARG ARI_PASSWORD
RUN test -n "$ARI_PASSWORD" || { echo "build argument ARI_PASSWORD is required" >&2; exit 1; }; \
    test "$ARI_PASSWORD" != "dev-only-ari-password" || { echo "ARI_PASSWORD is the development default" >&2; exit 1; }; \
    test -f /etc/asterisk/ari.conf || { echo "deploy/asterisk-etc/ari.conf is missing (see its README)" >&2; exit 1; }; \
    sed -i -E "s|^password[[:space:]]*=.*|password = ${ARI_PASSWORD}|" /etc/asterisk/ari.conf && \
    chown asterisk:asterisk /etc/asterisk/ari.conf && chmod 640 /etc/asterisk/ari.conf
USER asterisk
CMD ["asterisk", "-f"]

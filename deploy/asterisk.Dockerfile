# Asterisk 22 comes from Debian sid; its configuration is rendered from templates/asterisk/ by
# `python manage.py asterisk render` on a development machine, or written by hand from them.
FROM debian:sid-slim
RUN apt-get update && apt-get install -y --no-install-recommends asterisk asterisk-core-sounds-en-wav \
    asterisk-core-sounds-fr-wav asterisk-moh-opsound-wav && rm -rf /var/lib/apt/lists/*
COPY deploy/asterisk-etc/ /etc/asterisk/
USER asterisk
CMD ["asterisk", "-f"]

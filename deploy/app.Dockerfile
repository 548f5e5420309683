# The platform's Python processes (web, bridge, worker): see docker-compose.yml.
FROM python:3.11-slim-bookworm
# ffmpeg: greeting uploads (any browser format to phone WAV) and messages e-mailed as MP3.
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --no-cache-dir .
COPY . .
RUN python manage.py collectstatic --noinput
# Not root: a hole in a request handler or in ffmpeg's decoders stays within this user.
RUN useradd --system --uid 10001 --home-dir /app istra && mkdir -p /data/media && chown istra /data/media
USER istra
EXPOSE 8000

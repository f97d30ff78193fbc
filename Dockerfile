# media-origin: serves /data with the policies of /etc/media-origin/config.toml
# (the shipped folder policies). README "Running in Docker" has the whole story.
#   docker build -t media-origin .
#   docker run -p 8080:8080 -v "$PWD/media:/data:ro" media-origin      # serve only
#   docker run -p 8080:8080 -v media-origin-data:/data -e MEDIA_ORIGIN_TOKEN=change-me media-origin
# The user is media-origin, uid 10001: a host folder mounted at /data must be
# writable by it for uploads (chown -R 10001:10001, or docker run --user).
# Another config: -v "$PWD/config.toml:/etc/media-origin/config.toml:ro"
# (its storage root must then be /data, or another mounted path).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MEDIA_ORIGIN_CONFIG=/etc/media-origin/config.toml

# ffmpeg and ffprobe from Debian's packages: the conversions of audio and video.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 media-origin \
    && useradd --system --uid 10001 --gid media-origin --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin media-origin

WORKDIR /opt/media-origin
COPY pyproject.toml README.md ./
COPY origin ./origin
COPY storage ./storage
RUN pip install . && rm -rf /opt/media-origin/build

COPY docker/config.toml /etc/media-origin/config.toml
RUN mkdir -p /data && chown media-origin:media-origin /data

USER media-origin
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"
VOLUME ["/data"]
CMD ["media-origin", "serve"]

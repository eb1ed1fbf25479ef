"""The images scenarios run: what they expose, what their main process listens on and whether it
answers HTTP, and the listeners a container's own command starts."""

from __future__ import annotations

from typing import Any, Iterable

__all__ = ["IMAGES", "container_listeners", "image_key", "serves_http"]

IMAGES: dict[str, dict[str, Any]] = {
    "registry": {"expose": ((5000, "tcp"),), "listen": ((5000, "tcp"),), "http": True,
                 "cmd": "/entrypoint.sh /etc/docker/registry/config.yml"},
    "nginx": {"expose": ((80, "tcp"),), "listen": ((80, "tcp"),), "http": True,
              "cmd": "/docker-entrypoint.sh nginx -g 'daemon off;'"},
    "httpd": {"expose": ((80, "tcp"),), "listen": ((80, "tcp"),), "http": True, "cmd": "httpd-foreground"},
    "caddy": {"expose": ((80, "tcp"), (443, "tcp"), (443, "udp"), (2019, "tcp")), "listen": ((80, "tcp"),),
              "http": True, "cmd": "caddy run --config /etc/caddy/Caddyfile --adapter caddyfile"},
    "whoami": {"expose": ((80, "tcp"),), "listen": ((80, "tcp"),), "http": True, "cmd": "/whoami"},
    "redis": {"expose": ((6379, "tcp"),), "listen": ((6379, "tcp"),), "cmd": "docker-entrypoint.sh redis-server"},
    "busybox": {"cmd": "sh"},
    "alpine": {"cmd": "/bin/sh"},
    "ubuntu": {"cmd": "/bin/bash"},
}
"""The few images scenarios use: what they EXPOSE, what their default process listens on, whether it
answers HTTP (``curl`` gets 200 from it), their CMD (``traefik/whoami`` is ``whoami``)."""


def serves_http(image: str, command: Iterable[str]) -> bool:
    """Whether the container's main process answers HTTP: an HTTP image's default, or http.server."""
    argv = list(command)
    if argv:
        return argv[0] in ("python3", "python") and argv[1:3] == ["-m", "http.server"]
    return bool(IMAGES.get(image_key(image), {}).get("http"))


def image_key(image: str) -> str:
    """``registry:2`` -> ``registry``; ``docker.io/library/nginx:1.27`` -> ``nginx``."""
    return image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]


def container_listeners(image: str, command: Iterable[str]) -> list[tuple[int, str]]:
    """The sockets a container's main process listens on: its command when that is a listener
    (``nc -l [-k] [-u] [-p] PORT``, ``python3 -m http.server [PORT]``), else the image's default."""
    argv = list(command)
    if not argv:
        return list(IMAGES.get(image_key(image), {}).get("listen", ()))
    if argv[0] in ("nc", "ncat", "netcat"):
        flags = "".join(w[1:] for w in argv[1:] if w.startswith("-") and not w[1:].isdigit())
        ports = [w for w in argv[1:] if w.isdigit()]
        if "l" in flags and ports:
            return [(int(ports[-1]), "udp" if "u" in flags else "tcp")]
        return []
    if argv[0] in ("python3", "python") and argv[1:3] == ["-m", "http.server"]:
        ports = [w for w in argv[3:] if w.isdigit()]
        return [(int(ports[0]) if ports else 8000, "tcp")]
    return []

"""The sysctls a capture reads: the ones simnet's datapath reads, and a few it cannot model.

``sysctl -e KEY...`` prints ``key = value`` for every key that exists (``-e``: no complaint about
the others); :func:`parse_sysctl` reads that.  Which keys matter is simnet's business: the global
keys and the ``net.ipv4.conf`` keys the datapath, ARP, redirects and the transport layer read
(``simnet/datapath.py``, ``redirect.py``, ``socket.py``, ``probe.py``).
"""

from __future__ import annotations

__all__ = ["CONF_KEYS", "GLOBAL_KEYS", "UNMODELLED_CONF", "keys_for", "parse_sysctl"]

#: Global keys simnet models (``net.ipv4.ip_forward`` is written first: it rewrites every
#: device's and ``default``'s ``forwarding``, devinet.c inet_forward_change).
GLOBAL_KEYS = (
    "net.ipv4.ip_forward",
    "net.ipv4.ip_default_ttl",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.icmp_echo_ignore_all",
    "net.ipv4.icmp_echo_ignore_broadcasts",
    "net.ipv4.tcp_syn_retries",
    "net.ipv4.tcp_synack_retries",
    "net.ipv4.tcp_syn_linear_timeouts",
    "net.ipv4.tcp_invalid_ratelimit",
    "net.bridge.bridge-nf-call-iptables",
)

#: ``net.ipv4.conf.{all,default,DEV}.KEY`` keys simnet models.
CONF_KEYS = (
    "forwarding", "rp_filter", "accept_local", "route_localnet", "src_valid_mark", "arp_ignore",
    "arp_announce", "send_redirects", "accept_redirects", "secure_redirects", "shared_media",
)

#: Keys read only to say, when they are on, that simnet does not model them.
UNMODELLED_CONF = ("proxy_arp", "arp_filter", "arp_accept", "bc_forwarding")


def keys_for(devices: list[str]) -> list[str]:
    """Every key to read in a namespace with these devices (``.`` in a name is ``/`` in a key)."""
    scopes = ["all", "default", *(d.replace(".", "/") for d in devices)]
    return [*GLOBAL_KEYS, *(f"net.ipv4.conf.{s}.{k}" for s in scopes for k in (*CONF_KEYS, *UNMODELLED_CONF))]


def parse_sysctl(text: str) -> tuple[tuple[str, str], ...]:
    """``sysctl KEY...`` output → (key, value) pairs in its order; tabs inside values become spaces.

    >>> parse_sysctl("net.ipv4.ip_forward = 1\\nnet.ipv4.ip_local_port_range = 32768\\t60999\\n")
    (('net.ipv4.ip_forward', '1'), ('net.ipv4.ip_local_port_range', '32768 60999'))
    """
    out = []
    for line in text.splitlines():
        key, sep, value = line.partition(" = ")
        if sep:
            out.append((key.strip(), " ".join(value.split())))
    return tuple(out)

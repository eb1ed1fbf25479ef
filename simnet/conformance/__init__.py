"""Run a scenario script on the real kernel and report probe outcomes as JSON.

The report has exactly the schema the simulator emits, so the two can be
diffed with :func:`compare`::

    {"probes": [{"line", "command", "from", "proto", "dst", "dport", "outcome",
                 "icmp", "errno", "received", "expect", "counters", "conntrack", "trace"}],
     "outputs": [{"line", "command", "stdout"}]}

How a run is isolated (this machine's own namespaces are never touched):

* Before anything runs, the script is lexed and *validated* in the calling
  process: every command must run inside a namespace the script itself created
  (``ip netns exec NS ...`` or ``ip -n NS ...``); only ``ip netns add/del/list``
  may run without one. ``netns X`` arguments must name a script namespace (never
  a pid, which could be the machine's own namespace). Probes must run in a
  script namespace. ``docker`` commands are refused.
* The run itself starts the inner runner (``inside/runner.py``) under
  ``unshare --mount --net --propagation private``: a private mount namespace
  with a tmpfs on ``/run/netns`` (``/var/run`` is a symlink to ``/run`` here;
  if it is not, ``/var/run/netns`` gets its own tmpfs), so ``ip netns add``
  names never collide with anything on the machine, and a private network
  namespace as the run's own "root", so even a command that slipped past the
  validation could not change the machine's network. The inner runner refuses
  to start unless its mount namespace differs from pid 1's.
* Every namespace is deleted in a ``finally``; helper processes run in their own
  process group and are killed; and when the last process of the private mount
  namespace exits, everything that was left vanishes with it.
* Commands get a 5 s timeout, probes 1 s by default (``-W``/``-w``/``-m`` may
  say otherwise, never more than 5 s), the whole run ``timeout`` seconds.

What is pinned in every namespace right after ``ip netns add`` (and why):

* ``net.ipv6.conf.{all,default}.disable_ipv6=1``: no IPv6 ND/MLD noise in counters.
* ``net.ipv4.icmp_ratelimit=0`` and ``net.ipv4.icmp_ratemask=0``: ICMP errors are
  rate-limited per host, and the bucket is shared with redirects; observed here: a router
  that first sent a redirect then silently swallowed the REJECT's port-unreachable. With
  the limit 0 an error still *empties* the host's token bucket (inet_peer_xrlim_allow),
  and ``ip_error`` (a router's net/host unreachable for want of a route) draws on that
  same bucket at one second per error: seen here, a route error to a host less than a
  second after a port-unreachable to it was never sent. With the mask 0 no ICMP type is
  rate-limited and the bucket is left alone, so ``ip_error`` starts with its full burst
  (5 errors, then one a second; simnet models no ICMP rate limit at all).
* ``net.ipv4.igmp_link_local_mcast_reports=0``: bridges send IGMP reports at
  random moments otherwise.
* ``net.ipv4.conf.{all,default}.{rp_filter,accept_local,route_localnet,arp_ignore,
  arp_announce,arp_filter,proxy_arp}=0`` and ``send_redirects=1``,
  ``accept_redirects=1``, ``secure_redirects=1``, ``shared_media=1`` (which decides whether
  a redirect's new gateway must already be a route's gateway): a new namespace *copies* these
  from the machine's initial namespace, so they depend on the host's distro
  settings. These are the kernel's compiled defaults (``ipv4_devconf`` in
  net/ipv4/devinet.c). On this machine (kernel 6.18) a fresh namespace already
  had exactly these values (and ``accept_source_route`` all=0/default=1,
  ``forwarding``=0, ``icmp_ratelimit``=1000, ``igmp_link_local_mcast_reports``=1,
  ``net.bridge.bridge-nf-call-iptables``=1, which is left as it is).
* Tables: iptables-nft creates a table, with only the chains a command names,
  when ``-A/-I/-R/-N/-P`` or a restore block with a chain or rule line puts
  something there; ``-L/-S/-F/-Z/-C``, ``iptables-save`` and an empty
  ``*table``/``COMMIT`` block create nothing (verified, iptables 1.8.9 nf_tables).
  simnet's model: a table exists from that first command, with all its built-in
  chains. So after each run of consecutive iptables/iptables-restore commands (before
  anything else happens, and before a command that prints) the runner re-declares
  (``iptables-restore --noflush``, ``:CHAIN POLICY [0:0]``, keeping each chain's
  policy and rules) all built-in chains of the tables ``nft list chains`` shows,
  and of no other table: a namespace without tables has no hooks and no counters
  on both sides, and every existing built-in chain has a policy counter (a chain
  that ``iptables -A`` created has none until declared). Observed here: an empty
  nat table does *not* switch conntrack on (no entries after a ping); a NAT rule
  or a stateful match does.

How probes are done (never with nc/curl/ping themselves): a small helper,
``inside/probes.py`` (stdlib only, ``python -I -S``) run with ``ip netns exec NS``:

* ``ping``: a raw ICMP socket sends echo requests (id = the script line), one
  every ``-i`` seconds (ping's default 1 s, capped at 1 s), waiting ``-W`` after
  the last (iputils' linger), and
  reads the replies and the ICMP errors that quote them, so ``icmp`` has exact
  type/code/from; ``reply`` reports ``icmp = {type 0, code 0, from}``. A local
  ``sendto`` error (``connect: Network is unreachable`` in ping's words) gives
  ``error`` with its errno. :data:`PING_TEXTS` maps ping's texts to ICMP
  type/code for readers of real ping output.
* TCP (``nc -z``, ``curl``): ``connect`` with a timeout and ``IP_RECVERR``;
  ECONNREFUSED is ``refused`` (what nc prints and the app sees), with the ICMP
  reported when a port-unreachable caused it and ``icmp`` none for a RST; another
  ICMP error read from the socket's error queue gives ``unreachable`` (errno is
  what ``connect`` failed with); a local errno without ICMP is ``error``. The wait
  is the timeout minus 200 ms (``TOOL_EXIT_MARGIN``): the kernel's TCP timers fire on
  whole seconds (SYN retransmissions at 1, 2, 3 ... s), and simnet's clock ends the probe
  exactly at its timeout, so ``-w1`` sends exactly one SYN even on a busy machine. A connected socket is closed with
  ``SO_LINGER {1, 0}``: exactly SYN, SYN-ACK, ACK, RST, and conntrack shows
  ``CLOSE [ASSURED]`` (a normal close would add a timing-dependent FIN exchange
  and leave ``TIME_WAIT``), as simnet's client does; verified stable across runs.
* UDP (``echo DATA | nc -u``): a connected UDP socket with ``IP_RECVERR``;
  ``unreachable`` when an ICMP error comes back, ``delivered`` as soon as a
  listener logs the datagram, else ``lost``.
* Listeners (``nc -l``, ``nc -u -l``, ``python3 -m http.server``) are Python
  socket servers logging each peer; one raw-ICMP sniffer per namespace logs
  echo requests, which gives ``received`` for pings (``sport`` = echo id).
* ``counters``: ``iptables-save -c`` in every namespace before and after each
  probe; ``conntrack``: ``conntrack -L`` after it, normalised by
  :func:`normalise_conntrack`.

Errno names in the report are set whenever the probe's socket call failed.

Verified on this machine's kernel (6.18, iptables 1.8.9 nf_tables):

* ping's texts ↔ ICMP, with ``icmp_ratelimit=0``: ``--reject-with`` net-unreachable →
  "Destination Net Unreachable" 3/0, host-unreachable → "Destination Host
  Unreachable" 3/1, port-unreachable → 3/3, proto-unreachable → 3/2,
  net-prohibited → 3/9, host-prohibited → 3/10, admin-prohibited → "Packet
  filtered" 3/13; a router's ``unreachable`` route → 3/1, ``prohibit`` route → 3/13;
  TTL expiry → "Time to live exceeded" 11/0; a router sending a packet back out of
  its arrival interface first sends "Redirect Host" 5/1 (ignored by the helper,
  as the packet is still forwarded).
* Local route types fail the socket call (ping and TCP alike): ``unreachable`` →
  EHOSTUNREACH, ``prohibit`` → EACCES, ``blackhole`` → EINVAL; no route at all →
  ENETUNREACH ("connect: Network is unreachable").
* TCP: a SYN answered by ICMP aborts ``connect`` at once and the error queue
  holds the ICMP: ``--reject-with`` net-unreachable → ENETUNREACH 3/0,
  host-unreachable → EHOSTUNREACH 3/1, port-unreachable → ECONNREFUSED 3/3,
  proto-unreachable → ENOPROTOOPT 3/2, net-prohibited → ENETUNREACH 3/9,
  host-prohibited → EHOSTUNREACH 3/10, admin-prohibited → EHOSTUNREACH 3/13;
  ``tcp-reset`` → ``refused``. A router's ``unreachable``/``prohibit`` routes: 3/1
  and 3/13 with EHOSTUNREACH. Route-generated errors also pass ``ip_error()``'s
  own per-source token bucket (``net.ipv4.route.error_cost``/``error_burst``:
  global sysctls, not visible in a namespace, so not pinned); observed: of 8
  route errors to one host within ~2 s, the 8th was sometimes not sent and the
  probe reported ``timeout``. Keep route errors per (router, host) few, as
  kernel-notes.md says.
* UDP: a port-unreachable gives ECONNREFUSED; a router's 3/1 gives EHOSTUNREACH.
* ARP failure: the sender's own "host unreachable" (3/1 from its own address)
  arrives after ~3 s (3 unanswered requests): ``ping -c 1 -W 1`` reports
  ``timeout``, ``ping -c 4 -W 1`` (sends at 0..3 s, then waits 1 s) reports
  ``unreachable``, as the real ping prints "Destination Host Unreachable".
* conntrack (``conntrack -L``, normalised): a refused connection (RST from a
  closed port) is removed at once; an RST-aborted one stays ``CLOSE [ASSURED]``;
  a FIN close leaves ``TIME_WAIT [ASSURED]``; a SYN answered by a REJECT's ICMP
  leaves ``SYN_SENT [UNREPLIED]`` in the sender's table and nothing where REJECT
  dropped it; a UDP datagram answered by a port-unreachable stays ``[UNREPLIED]``,
  one with one reply has neither flag; a ping leaves an ``icmp`` entry without
  flags. :func:`compare` blanks unpinned ephemeral ports (each side's choice).
"""

from __future__ import annotations

import json
import sys

from simnet.conformance.compare import _summary, compare
from simnet.conformance.inside.common import PING_TEXTS, RUN_TIMEOUT, KernelRunError, normalise_conntrack
from simnet.conformance.run import run_on_kernel

__all__ = ["KernelRunError", "PING_TEXTS", "compare", "main", "normalise_conntrack", "run_on_kernel"]


def main(argv: list[str] | None = None) -> int:
    """``python -m simnet.conformance SCRIPT [--json]``: run a script on the real kernel.

    Exit status: 0 when every ``# expect:`` held, 1 when one did not, 2 on errors.
    """
    import argparse

    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="simnet kernel-run", description="Run a scenario script on the real kernel.")
    parser.add_argument("script")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--timeout", type=float, default=RUN_TIMEOUT)
    ns = parser.parse_args(args)
    try:
        report = run_on_kernel(ns.script, timeout=ns.timeout)
    except (KernelRunError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2) if ns.json else _summary(report))
    return 1 if any(p["expect"] and not p["expect"]["ok"] for p in report["probes"]) else 0


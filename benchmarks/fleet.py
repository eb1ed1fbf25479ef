"""A generated container fleet as a simnet script, for the scale benchmarks.

H hosts on one underlay bridge (namespace ``lan``, 192.168.0.0/16), each with a ``docker0``
(172.16.H.0/24) holding C containers, routes to every other host's container subnet, Docker's
MASQUERADE for traffic leaving docker0 (but not to other container subnets), a web server on
port 80 in every container and, on every host, a FORWARD rule that drops ssh into its containers.

Usage::

    python benchmarks/fleet.py HOSTS CONTAINERS > fleet.sh
"""

from __future__ import annotations

import sys


def container(h: int, c: int) -> str:
    return f"c{h}x{c}"


def container_ip(h: int, c: int) -> str:
    return f"172.16.{h}.{c + 2}"


def fleet_script(hosts: int, containers: int, *, listeners: bool = True) -> str:
    """The script text: ``hosts`` x ``containers`` containers, 1 + hosts + hosts*containers namespaces."""
    if not (1 <= hosts <= 250 and 0 <= containers <= 250):
        raise ValueError("1-250 hosts of 0-250 containers")
    out = ["#!/bin/sh", f"# generated fleet: {hosts} hosts x {containers} containers", "set -e",
           "ip netns add lan", "ip -n lan link add br0 type bridge", "ip -n lan link set br0 up"]
    for h in range(hosts):
        host = f"h{h}"
        out += [f"ip netns add {host}",
                f"ip -n lan link add p{h} type veth peer name eth0 netns {host}",
                f"ip -n lan link set p{h} master br0", f"ip -n lan link set p{h} up",
                f"ip -n {host} addr add 192.168.{h // 250}.{h % 250 + 1}/16 dev eth0",
                f"ip -n {host} link set eth0 up",
                f"ip -n {host} link add docker0 type bridge",
                f"ip -n {host} addr add 172.16.{h}.1/24 dev docker0",
                f"ip -n {host} link set docker0 up",
                f"ip netns exec {host} sysctl -w net.ipv4.ip_forward=1",
                f"ip netns exec {host} iptables -t nat -A POSTROUTING -s 172.16.{h}.0/24 -d 172.16.0.0/16 -j RETURN",
                f"ip netns exec {host} iptables -t nat -A POSTROUTING -s 172.16.{h}.0/24 ! -o docker0 -j MASQUERADE",
                f"ip netns exec {host} iptables -A FORWARD -o docker0 -p tcp --dport 22 -j DROP"]
        for other in range(hosts):
            if other != h:
                out.append(f"ip -n {host} route add 172.16.{other}.0/24 via 192.168.{other // 250}.{other % 250 + 1}")
        for c in range(containers):
            name = container(h, c)
            out += [f"ip netns add {name}",
                    f"ip -n {host} link add v{c} type veth peer name eth0 netns {name}",
                    f"ip -n {host} link set v{c} master docker0", f"ip -n {host} link set v{c} up",
                    f"ip -n {name} addr add {container_ip(h, c)}/24 dev eth0",
                    f"ip -n {name} link set eth0 up",
                    f"ip -n {name} route add default via 172.16.{h}.1"]
            if listeners:
                out.append(f"ip netns exec {name} nc -l -k -p 80 &")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(fleet_script(int(sys.argv[1]), int(sys.argv[2])))

"""kube-proxy scale benchmark: load time against the kernel, per-packet cost against a Docker host.

Generates a kube-proxy (iptables mode) style ``iptables-save`` nat ruleset of
N services x 3 endpoints, then measures, in one run:

(a) simnet: ``apply_restore`` of that text into a fresh namespace;
(b) the kernel: ``unshare --net -- iptables-restore FILE`` in a throwaway network
    namespace that dies with the process (never the root namespace), when
    running as root with iptables installed; also the bare ``unshare --net --
    true`` so the namespace setup can be told apart;
(c) per-packet cost: the mean time of many TCP SYNs through the nat table's
    PREROUTING (arriving on eth0) and OUTPUT (local) evaluation, to the first
    and to the last service, with the fast and the reference evaluator, against
    the same measure on a 20-rule Docker host ruleset (a SYN to a published port).

Usage::

    python benchmarks/kube_proxy.py [--services N] [--json] [--save FILE] [--profile]
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import datetime
import gc
import hashlib
import io
import json
import os
import platform
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simnet.netfilter.engine import match_context  # noqa: E402
from simnet.netfilter.evaluate import evaluate_chain  # noqa: E402
from simnet.netfilter.fastpath import clear_cache, fast_evaluate_chain  # noqa: E402
from simnet.netfilter.hooks import Hook  # noqa: E402
from simnet.netfilter.syntax import apply_restore  # noqa: E402
from simnet.packet import IPv4, Packet, Tcp  # noqa: E402
from simnet.skb import Skb  # noqa: E402
from simnet.world import World  # noqa: E402

NODE_IP = "10.0.0.1"
CLIENT_IP = "192.168.7.9"
CLUSTER_CIDR = "10.244.0.0/16"


def _chain_hash(prefix: str, *parts: str) -> str:
    """kube-proxy's chain names: prefix + the first 16 base32 chars of a sha256."""
    digest = hashlib.sha256("".join(parts).encode()).digest()
    return prefix + base64.b32encode(digest).decode()[:16]


def service_ip(i: int) -> str:
    return f"10.96.{i // 250}.{i % 250 + 1}"


def endpoint_ip(i: int, j: int) -> str:
    k = i * 3 + j
    return f"10.244.{k // 250}.{k % 250 + 2}"


def kube_proxy_ruleset(services: int = 10_000, endpoints: int = 3, nodeport_every: int = 100) -> str:
    """``iptables-save`` text of a kube-proxy nat table: ``services`` x ``endpoints``."""
    chains = [":KUBE-MARK-MASQ - [0:0]", ":KUBE-NODEPORTS - [0:0]", ":KUBE-POSTROUTING - [0:0]",
              ":KUBE-SERVICES - [0:0]"]
    rules = [
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
        "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
        "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" '
        "-j MASQUERADE --random-fully",
    ]
    svc_rules: list[str] = []
    nodeports: list[str] = []
    for i in range(services):
        name = f"ns{i % 50}/svc-{i}:http"
        svc = _chain_hash("KUBE-SVC-", name, "tcp")
        chains.append(f":{svc} - [0:0]")
        vip = service_ip(i)
        svc_rules.append(f'-A KUBE-SERVICES -d {vip}/32 -p tcp -m comment --comment "{name} cluster IP" '
                         f"-m tcp --dport 80 -j {svc}")
        rules.append(f'-A {svc} ! -s {CLUSTER_CIDR} -d {vip}/32 -p tcp -m comment --comment "{name} cluster IP" '
                     f"-m tcp --dport 80 -j KUBE-MARK-MASQ")
        for j in range(endpoints):
            ep = endpoint_ip(i, j)
            sep = _chain_hash("KUBE-SEP-", name, "tcp", ep)
            chains.append(f":{sep} - [0:0]")
            left = endpoints - j
            # kube-proxy prints 1/left with 11 decimals as the kernel stores it (0.33333333349 for 1/3)
            p = {3: "0.33333333349"}.get(left, f"{1 / left:.11f}")
            prob = f" -m statistic --mode random --probability {p}" if left > 1 else ""
            rules.append(f'-A {svc} -m comment --comment "{name} -> {ep}:8080"{prob} -j {sep}')
            rules.append(f'-A {sep} -s {ep}/32 -m comment --comment "{name}" -j KUBE-MARK-MASQ')
            rules.append(f'-A {sep} -p tcp -m comment --comment "{name}" -m tcp -j DNAT --to-destination {ep}:8080')
        if nodeport_every and i % nodeport_every == 0:
            nodeports.append(f'-A KUBE-NODEPORTS -p tcp -m comment --comment "{name}" -m tcp '
                             f"--dport {30000 + i // nodeport_every} -j {svc}")
    svc_rules.append('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the '
                     'last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS')
    head = ["# Generated by benchmarks/kube_proxy.py", "*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]",
            ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]"]
    return "\n".join(head + chains + rules + svc_rules + nodeports + ["COMMIT", ""])


DOCKER_RULESET = """\
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8443 -j DNAT --to-destination 172.17.0.3:443
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER -d 172.17.0.3/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 443 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
"""


def count_rules(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.startswith("-A "))


def node_namespace():
    """A node with eth0 10.0.0.1/24 (so ``--dst-type LOCAL`` means something)."""
    world = World(seed=1)
    world.add_netns("peer")
    ns = world.add_netns("node")
    ns.set_up("lo", True)
    ns.link_add("eth0", "veth", peer="eth0", peer_netns=world["peer"])
    ns.addr_add("eth0", IPv4Interface(f"{NODE_IP}/24"))
    ns.set_up("eth0", True)
    return ns


# ----------------------------------------------------------------------------- (a) and (b): loading

def simnet_load(text: str, profile: bool = False) -> tuple[float, object, str]:
    ns = node_namespace()
    prof = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if prof is not None:
        prof.enable()
    apply_restore(ns.ruleset, text)
    if prof is not None:
        prof.disable()
    elapsed = time.perf_counter() - t0
    report = ""
    if prof is not None:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(15)
        report = out.getvalue()
    return elapsed, ns, report


def kernel_load(path: str) -> dict[str, object]:
    """Time ``iptables-restore`` in a throwaway network namespace (never the root one)."""
    if os.geteuid() != 0:
        return {"skipped": "not root"}
    if not (shutil.which("unshare") and shutil.which("iptables-restore")):
        return {"skipped": "unshare or iptables-restore not installed"}
    base = ["unshare", "--net", "--"]
    t0 = time.perf_counter()
    r = subprocess.run(base + ["true"], capture_output=True)
    ns_only = time.perf_counter() - t0
    if r.returncode != 0:
        return {"skipped": f"unshare --net failed: {r.stderr.decode().strip()}"}
    t0 = time.perf_counter()
    r = subprocess.run(base + ["iptables-restore", path], capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if r.returncode != 0:
        return {"skipped": f"iptables-restore failed: {r.stderr.strip()[:300]}"}
    version = subprocess.run(["iptables", "--version"], capture_output=True, text=True).stdout.strip()
    return {"seconds": elapsed, "unshare_only_seconds": ns_only, "version": version}


# ----------------------------------------------------------------------------- (c): per-packet cost

def syn(dst: str, dport: int, indev: str | None) -> Skb:
    pkt = Packet(ip=IPv4(src=IPv4Address(CLIENT_IP if indev else NODE_IP), dst=IPv4Address(dst), proto=6),
                 l4=Tcp(sport=40000, dport=dport))
    return Skb(packet=pkt, indev=indev)


def per_packet(ns, evaluator, dst: str, dport: int, hook: Hook, iterations: int) -> dict[str, object]:
    """Seconds per nat-table evaluation of a SYN at ``hook``: the best of 5 batch means (after one warm-up packet)."""
    state = ns.ruleset.tables["nat"]
    skb = syn(dst, dport, "eth0" if hook is Hook.PRE_ROUTING else None)
    ctx = match_context(ns, hook)
    t0 = time.perf_counter()
    first = evaluator(state, hook.chain, skb, ctx)
    warm = time.perf_counter() - t0
    batches = []
    per = max(1, iterations // 5)
    for _ in range(5):  # best of 5 batches: the machine is shared, the minimum is the evaluator's cost
        t0 = time.perf_counter()
        for _ in range(per):
            evaluator(state, hook.chain, skb, ctx)
        batches.append((time.perf_counter() - t0) / per)
    mean = min(batches)
    return {"mean_us": mean * 1e6, "median_batch_us": sorted(batches)[2] * 1e6, "first_packet_ms": warm * 1e3, "verdict": first.verdict,
            "hits": len(first.hits), "iterations": iterations}


def run(services: int, iterations: int, ref_iterations: int, profile: bool, save: str | None) -> dict[str, object]:
    t0 = time.perf_counter()
    text = kube_proxy_ruleset(services)
    gen = time.perf_counter() - t0
    result: dict[str, object] = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "services": services,
        "rules": count_rules(text),
        "chains": sum(1 for line in text.splitlines() if line.startswith(":")),
        "bytes": len(text),
        "generate_seconds": gen,
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = save or os.path.join(tmp, "kube-proxy.rules")
        Path(path).write_text(text)
        # side by side in one run: the kernel first, then simnet
        result["kernel_restore"] = kernel_load(path)
    secs, kube_ns, prof = simnet_load(text, profile)
    result["simnet_restore_seconds"] = secs
    if prof:
        result["simnet_restore_profile"] = prof
    docker_ns = node_namespace()
    apply_restore(docker_ns.ruleset, DOCKER_RULESET)
    result["docker_rules"] = count_rules(DOCKER_RULESET)
    # The 100k-rule heap makes every full GC pass cost ~1.5 s; one pass now, then freeze the
    # survivors so a pass landing inside a timing loop does not measure the heap instead of the evaluator.
    t0 = time.perf_counter()
    gc.collect()
    gc.freeze()
    result["gc_collect_seconds"] = time.perf_counter() - t0

    clear_cache()
    packets: list[dict[str, object]] = []
    cases = [("docker", docker_ns, "published port", NODE_IP, 8080),
             ("kube", kube_ns, "first service", service_ip(0), 80),
             ("kube", kube_ns, "last service", service_ip(services - 1), 80)]
    for evaluator, name, iters in ((fast_evaluate_chain, "fast", iterations), (evaluate_chain, "reference", ref_iterations)):
        for ruleset, ns, label, dst, port in cases:
            for hook in (Hook.PRE_ROUTING, Hook.LOCAL_OUT):
                n = iterations if ruleset == "docker" else iters
                row = per_packet(ns, evaluator, dst, port, hook, n)
                row.update(evaluator=name, ruleset=ruleset, packet=label, chain=hook.chain)
                packets.append(row)
    base = {(r["evaluator"], r["chain"]): r["mean_us"] for r in packets if r["ruleset"] == "docker"}
    for r in packets:
        r["x_docker"] = r["mean_us"] / base[(r["evaluator"], r["chain"])]
    result["per_packet"] = packets
    return result


def print_table(r: dict[str, object]) -> None:
    print(f"kube-proxy benchmark  {r['date']}  {r['machine']}  Python {r['python']}")
    print(f"ruleset: {r['services']} services x 3 endpoints = {r['rules']} rules in {r['chains']} chains "
          f"({r['bytes'] / 1e6:.1f} MB), generated in {r['generate_seconds']:.2f} s")
    print()
    k = r["kernel_restore"]
    print(f"{'load':<44}{'seconds':>10}")
    print(f"{'simnet apply_restore (fresh namespace)':<44}{r['simnet_restore_seconds']:>10.2f}")
    if "seconds" in k:
        print(f"{'kernel iptables-restore (unshare --net)':<44}{k['seconds']:>10.2f}   ({k['version']})")
        print(f"{'  of which unshare --net -- true':<44}{k['unshare_only_seconds']:>10.2f}")
    else:
        print(f"{'kernel iptables-restore':<44}{'skipped':>10}   ({k['skipped']})")
    print()
    print(f"per-packet nat evaluation (TCP SYN): best and median of 5 batch means; docker = {r['docker_rules']}-rule Docker host ruleset")
    print(f"{'evaluator':<10}{'ruleset':<8}{'packet':<16}{'chain':<12}{'best us':>10}{'median':>8}{'x docker':>10}"
          f"{'hits':>6}{'verdict':>9}{'1st pkt ms':>12}")
    for p in r["per_packet"]:
        print(f"{p['evaluator']:<10}{p['ruleset']:<8}{p['packet']:<16}{p['chain']:<12}{p['mean_us']:>10.1f}{p['median_batch_us']:>8.1f}"
              f"{p['x_docker']:>10.2f}{p['hits']:>6}{p['verdict']:>9}{p['first_packet_ms']:>12.2f}")
    print(f"(one gc.collect() of the loaded heap took {r['gc_collect_seconds']:.2f} s; heap frozen before timing; "
          f"'1st pkt' includes compiling the chains it visits)")
    if r.get("simnet_restore_profile"):
        print()
        print(r["simnet_restore_profile"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--services", type=int, default=10_000, help="services (x 3 endpoints); default 10000")
    ap.add_argument("--iterations", type=int, default=20_000, help="SYNs per fast-path measurement")
    ap.add_argument("--ref-iterations", type=int, default=50, help="SYNs per reference measurement on kube")
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    ap.add_argument("--profile", action="store_true", help="cProfile simnet's apply_restore")
    ap.add_argument("--save", metavar="FILE", help="also keep the generated iptables-save file")
    args = ap.parse_args(argv)
    r = run(args.services, args.iterations, args.ref_iterations, args.profile, args.save)
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        print_table(r)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

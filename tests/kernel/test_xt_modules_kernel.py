"""Issue #13's real-world match and target modules against the real iptables 1.8.9 (nf_tables) in ``unshare --net``:
the same exit status, first line of stderr and ``-S`` text for each command (accepted ones print back as the
kernel's iptables-save does, refused ones fail with iptables' words), and verdicts the kernel's counters show."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from simnet.netfilter.iptables import IptablesError, iptables
from simnet.netfilter.ruleset import Ruleset
from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

UDP = [
    "-A INPUT -p udp -m udp --dport 60000:29 -j ACCEPT", "-A INPUT -p udp ! --sport 5:4",
    "-A INPUT -p udp --dport 60000: -j DROP", "-A INPUT -p udp --dport :29", "-A INPUT -p udp --dport 70000",
    "-A INPUT -p udp -m udp --dport 60000:29 -m udp --sport 53", "-A INPUT -p udp --dport 29abc",
    "-A INPUT -p tcp --dport 60000:29", "-A INPUT -p tcp -m tcp --sport 5:4",
    "-A INPUT -p udp -m multiport --dports 5:4", "-A INPUT -p udp -m udp --dport 65535:0",
]
SCTP = [
    "-A INPUT -p sctp -m sctp --sport 80 --dport 1000:2000 --chunk-types any DATA,INIT -j ACCEPT",
    "-A INPUT -p sctp ! --chunk-types only DATA:Be,ABORT:T,SHUTDOWN_COMPLETE:t,INIT_ACK -j DROP",
    "-A INPUT -p sctp --chunk-types any I_DATA:IUbe,DATA:I,PAD", "-A INPUT -p sctp --chunk-types all ALL",
    "-A INPUT -p sctp --chunk-types only FORWARD_TSN,ASCONF,ASCONF_ACK,I_FORWARD_TSN,RE_CONFIG",
    "-A INPUT -p sctp --chunk-types all none", "-A INPUT -p sctp --chunk-types ANY data:iE,data:U,abort:T",
    "-A INPUT -p sctp --chunk-types any DATA,DATA:B", "-A INPUT -p sctp ! --sport 0:65535 ! --dport 5:6",
    "-A INPUT -p sctp -m sctp", "-A INPUT -p sctp --chunk-types any DATA: -m sctp --dport 5",
    "-A INPUT -p sctp --chunk-types any ,DATA:-", "-A INPUT -p sctp --dport 5:4", "-A INPUT -p sctp --dport http",
    "-A INPUT -p sctp --dport 99999", "-A INPUT -p sctp --sport amqp:", "-A INPUT -p tcp --tcp-flags SYN -j DROP", "-A INPUT -p sctp --chunk-types any DATA:X", "-A INPUT -p sctp --chunk-types some DATA",
    "-A INPUT -p sctp --chunk-types any FOO", "-A INPUT -p sctp --chunk-types any", "-A INPUT -m sctp --dport 5",
    "-A INPUT -p tcp -m sctp --dport 5", "-A INPUT -p sctp --chunk-types any DATA::",
    "-A INPUT -p sctp --chunk-types any DATA:I,ABORT:T,SHUTDOWN_COMPLETE:T,I_DATA:B,DATA:U",
    "-A INPUT -p sctp --chunk-types any DATA:I,ABORT:T,SHUTDOWN_COMPLETE:T,I_DATA:B,PAD:-",
]
RPFILTER = [
    "-t raw -A PREROUTING -m rpfilter", "-t raw -A PREROUTING -m rpfilter --invert --accept-local --validmark --loose -j DROP",
    "-t mangle -A PREROUTING -m rpfilter --loose", "-t filter -A INPUT -m rpfilter", "-t mangle -A INPUT -m rpfilter",
    "-t raw -A OUTPUT -m rpfilter", "-t raw -A PREROUTING -m rpfilter ! --loose",
    "-t raw -A PREROUTING -m rpfilter --loose --loose", "-t raw -A PREROUTING -m rpfilter --lo",
]
POLICY = [
    "-A INPUT -m policy --dir in --pol none", "-A INPUT -m policy --dir in --pol ipsec", "-A INPUT -m policy --dir in",
    "-A FORWARD -m policy --pol ipsec --dir out --strict --reqid 5 --spi 0x10 --proto esp --mode tunnel "
    "--tunnel-src 10.0.0.1/24 --tunnel-dst 10.0.0.2 --next ! --reqid 6 ! --proto 51 ! --mode transport",
    "-A INPUT -m policy ! --dir in --pol none", "-A INPUT -m policy --pol none", "-A INPUT -m policy --dir out",
    "-A OUTPUT -m policy --dir in --pol none", "-A INPUT -m policy --dir in --pol none --strict",
    "-A INPUT -m policy --dir in --pol ipsec --strict", "-A INPUT -m policy --dir in --pol ipsec --proto tcp",
    "-A INPUT -m policy --dir in --pol ipsec --mode transport --tunnel-src 1.2.3.4",
    "-A INPUT -m policy --dir in --pol ipsec --next --reqid 1", "-A INPUT -m policy --dir in --pol ipsec --reqid 1 --reqid 2",
    "-A INPUT -m policy --dir sideways", "-A INPUT -m policy --dir in --pol foo", "-A INPUT -m policy --dir in --dir out",
    "-A INPUT -m policy --dir in --pol ipsec --proto ipcomp --spi 5 --reqid 0", "-A INPUT -m policy --dir in --pol ipsec --mode foo",
    "-A INPUT -m policy --dir in --pol ipsec --spi 4294967296", "-A INPUT -m policy --dir in --pol none --reqid 1",
    "-A INPUT -m policy --dir in --pol ipsec --mode tunnel --tunnel-dst 10.1.2.3/255.255.0.0",
    "-A POSTROUTING -t mangle -m policy --dir out --pol ipsec --strict --mode tunnel --next --spi 1 --next --spi 2 --next --spi 3",
    "-A POSTROUTING -t mangle -m policy --dir out --pol ipsec --strict --mode tunnel --next --spi 1 --next --spi 2 --next --spi 3 --next --spi 4",
]
NETMAP = [
    "-t nat -A PREROUTING -d 10.9.0.0/24 -j NETMAP --to 10.1.0.7/24", "-t nat -A POSTROUTING -j NETMAP --to 10.1.0.0/255.255.0.0",
    "-t nat -A OUTPUT -j NETMAP --to 10.1.0.1", "-t nat -A INPUT -j NETMAP --to 10.1.0.1/32", "-t nat -A INPUT -j NETMAP",
    "-t filter -A INPUT -j NETMAP --to 1.2.3.0/24", "-t nat -A INPUT -j NETMAP --to 1.2.3.0/33",
    "-t nat -A INPUT -j NETMAP --to 1.2.3.0/0", "-t nat -A INPUT -j NETMAP ! --to 1.2.3.4",
    "-t nat -A INPUT -j NETMAP --to 1.2.3.4 --to 1.2.3.5", "-t nat -A INPUT -j NETMAP --to 1.2.3.4/255.0.255.0",
]
HASHLIMIT = [f"-A INPUT -m hashlimit {a}" for a in ['--hashlimit-upto 10/sec --hashlimit-name foo', '--hashlimit 10/sec --hashlimit-name foo', '--hashlimit-above 5/min --hashlimit-burst 10 --hashlimit-mode srcip,dstport --hashlimit-name x --hashlimit-srcmask 24 --hashlimit-dstmask 16 --hashlimit-htable-size 1024 --hashlimit-htable-max 2048 --hashlimit-htable-expire 60000 --hashlimit-htable-gcinterval 500', '--hashlimit-upto 1/hour --hashlimit-name y --hashlimit-mode dstip,srcip,srcport', '--hashlimit-upto 100kb/s --hashlimit-name b', '--hashlimit-upto 1/day --hashlimit-name d --hashlimit-htable-expire 10000', '--hashlimit-upto 10/sec', '--hashlimit-name foo', '--hashlimit-upto 10/sec --hashlimit-above 5/sec --hashlimit-name foo', '--hashlimit-upto 0/sec --hashlimit-name foo', '--hashlimit-upto 10/sec --hashlimit-name foo --hashlimit-mode foo', '--hashlimit-upto 10/sec --hashlimit-name foo --hashlimit-srcmask 33', '--hashlimit-upto 10 --hashlimit-name foo', '--hashlimit-upto 3/m --hashlimit-name foo --hashlimit-burst 1', '--hashlimit-upto 10/s --hashlimit-name foo --hashlimit-rate-match --hashlimit-rate-interval 5', '--hashlimit-upto 10/sec --hashlimit-name foo --hashlimit-srcmask 32 --hashlimit-dstmask 32', '--hashlimit-upto 20000/sec --hashlimit-name foo', '--hashlimit-upto 1/sec --hashlimit-burst 1000000 --hashlimit-name foo', '--hashlimit-upto 512b/s --hashlimit-name foo --hashlimit-burst 2mb', '! --hashlimit-upto 10/sec --hashlimit-name foo', '--hashlimit-upto 1/day --hashlimit-name d', '--hashlimit-upto 2/day --hashlimit-name d', '--hashlimit-upto 5/min --hashlimit-name x --hashlimit-htable-expire 0', '--hashlimit-upto 5/min --hashlimit-name x --hashlimit-htable-gcinterval 0', '--hashlimit-upto 3/min --hashlimit-name x --hashlimit-rate-match', '--hashlimit-upto 1kb/s --hashlimit-name x --hashlimit-burst 5', '--hashlimit-upto 1mb/s --hashlimit-name x', '--hashlimit-upto 10/hour --hashlimit-name x --hashlimit-burst 1000001', "! --hashlimit-above 7/h --hashlimit-name x --hashlimit-mode 'srcport|dstport'", '--hashlimit-upto 10/sec --hashlimit-name x --hashlimit-burst 0']]
CONNLIMIT = [f"-A INPUT {a}" for a in ['-p tcp --syn -m connlimit --connlimit-above 2', '-m connlimit --connlimit-upto 5', '-m connlimit --connlimit-above 2 --connlimit-mask 24', '-m connlimit ! --connlimit-above 2', '-m connlimit ! --connlimit-upto 2 --connlimit-daddr', '-m connlimit --connlimit-above 2 --connlimit-saddr', '-m connlimit', '-m connlimit --connlimit-above 2 --connlimit-upto 3', '-m connlimit --connlimit-above 2 --connlimit-mask 33', '-m connlimit --connlimit-above 2 --connlimit-mask 0', '-m connlimit --connlimit-above -1', '-m connlimit --connlimit-above 4294967295', '-m connlimit --connlimit-above 2 --connlimit-saddr --connlimit-daddr', '-m connlimit --connlimit-above 0x10 --connlimit-mask 0x10', '-m connlimit --connlimit-above 1 --connlimit-mask 129', '-m connlimit --connlimit-above 1 ! --connlimit-mask 8']]
TIME = [f"-A INPUT -m time {a}" for a in ['--timestart 08:00 --timestop 17:30', '--timestart 8:0:5 --timestop 23:59:59 --weekdays Mon,Tue,Fri', '--weekdays 1,2,7', '--weekdays Mo,Sun', '--monthdays 1,15,31', '--datestart 2024-01-01 --datestop 2025-06-30T12:00:00', '--datestart 2024-01-01T10', '--kerneltz --timestart 22:00 --timestop 06:00 --contiguous', '--timestart 22:00 --timestop 06:00', '--utc --timestart 1:00', '! --weekdays Sat,Sun', '! --monthdays 1', '--timestart 25:00', '--timestart 8:61', '--timestart 8:30:60', '--weekdays Foo', '--monthdays 32', '--datestart 2040-01-01', '--datestart 1969-01-01', '--contiguous', '', '! --timestart 8:00', '--weekdays 1,1,2', '--monthdays 0', '--timestart 08:00 --timestop 08:00', '--datestop 2038-01-19T03:14:07', '--datestop 2038-01-19T03:14:08', '--weekdays Monday', '--datestart 2024-13', '--datestart 2024-02-30', '--datestart 2024-1-2T3:4:5', '--datestart 1970', '--weekdays 0', '--weekdays 8', '--weekdays Mo,', '--weekdays ,Mo', '--monthdays 1,', '--monthdays 3,,4']]
STRING = [f"-A INPUT -m string {a}" for a in ['--algo bm --string foo', "--algo kmp --string 'GET /index' --from 40 --to 100", '--string foo', '--algo bm', '--algo xx --string foo', "--algo bm --hex-string '|414243|'", "--algo bm --hex-string 'a|42|c'", '--algo bm ! --string foo --icase', '--algo bm --string foo --to 0', '--algo bm --string foo --from 5 --to 3', "--algo bm --string ''", "--algo bm --hex-string '|4|'", "--algo bm --hex-string '|41 42|'", "--algo bm --string 'a|b'", '--algo bm --string foo --string bar', '--algo bm --string foo --to 65535', '--algo bm --string foo --to 65536', "--algo bm --hex-string '|0102|'", '--algo bm --string \'a"b\'', "--algo bm --string 'a\\\\b'", "--algo bm --hex-string 'x\\\\|y'", "--algo bm --hex-string '|41|\\\\'", "--algo bm --hex-string '|4g|'", "--algo kmp --hex-string '|00|abc|0a|'", "--algo bm --string foo --hex-string '|41|'", '--algo fsm --string foo', '! --algo bm --string foo', '--algo bm --from 7 --string x --icase']]
NAT_SHIFT = ['-t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.0.2.2:9100-9110/8100', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.0.2.2-10.0.2.5:9100-9110/8100', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination :9100-9110/8100', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.0.2.2:9100/8100', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.0.2.2:9100-9110/', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.0.2.2:9100-9110/70000', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.0.2.2:9100-9110/0', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.0.2.2:9100-9110/abc', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.0.2.2:9110-9100/8100', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.0.2.2:9100-9110/08100', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.0.2.2:9100-9110/8100-8200', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:0', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:0-5', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:http', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:http-https', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80-http', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80:90', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80x', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80-90x', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80-90/http', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80-90/0x10', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80-90/5x', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:65536', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80-', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:-80', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:0x50-0x60/010', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80-90/-1', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80/', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80-80/90', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.0.2.2:9100-9110/9105 --random', '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.0.2.2:9100-9110/8100 --persistent', '-t nat -A PREROUTING -j DNAT --to-destination 10.0.2.2:9100-9110/8100', '-t nat -A PREROUTING -p sctp -j DNAT --to-destination 10.0.2.2:9100-9110/8100', '-t nat -A OUTPUT -p udp -j DNAT --to-destination 10.0.2.2:9100-9110/65535', '-t nat -A POSTROUTING -p tcp -j SNAT --to-source 10.0.2.2:9100-9110/8100', '-t nat -A POSTROUTING -p udp -j SNAT --to-source 10.0.2.2:9100-9110/8100 --random-fully', '-t nat -A POSTROUTING -p tcp -j SNAT --to-source 10.0.2.2:9100-9110/0', '-t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 9100-9110/8100', '-t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 80/5', '-t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 80-90/', '-t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 80-90/http', '-t nat -A PREROUTING -p tcp -j REDIRECT --to-ports 9100-9110/8100', '-t nat -A PREROUTING -p tcp -j REDIRECT --to-ports 80-90/x', '-t nat -A PREROUTING -p tcp -j REDIRECT --to-ports 80-90', '-t nat -A PREROUTING -p tcp -j REDIRECT --to-ports http', '-t nat -A PREROUTING -p tcp -j REDIRECT --to-ports 80:90']
DUMP_SYNTAX = ['-A INPUT -m mac --mac-source XX:XX:XX:XX:XX:XX', '-A INPUT -m mac --mac-source 00:11:22:33:44', '-A INPUT -s ! 1.2.3.4 -j DROP', '-A INPUT -d ! 1.2.3.4', '-A INPUT -p ! tcp', '-A INPUT -i ! eth0', '-A INPUT -s 1.2.3.4 ! 5.6.7.8', '-A INPUT -s nosuch.invalid ! 5.6.7.8', '-A INPUT -s 1.2.3.400 -m mac --mac-source 1']
"""Old syntax found in real dumps (diekmann/net-network): what is refused first, and how."""
CASES = DUMP_SYNTAX + NAT_SHIFT + UDP + SCTP + RPFILTER + POLICY + NETMAP + HASHLIMIT + CONNLIMIT + TIME + STRING


def _chain(argv: str) -> tuple[str, str]:
    words = shlex.split(argv)
    table = words[words.index("-t") + 1] if "-t" in words else "filter"
    return table, words[words.index("-A") + 1]


def _kernel(argv: str) -> tuple[int, str, str]:
    table, chain = _chain(argv)
    script = f"iptables {argv}; rc=$?; iptables -t {table} -S {chain}; exit $rc"
    proc = subprocess.run(["unshare", "--net", "--", "sh", "-c", script], capture_output=True, text=True, timeout=30)
    return proc.returncode, proc.stderr.splitlines()[0] if proc.stderr else "", proc.stdout


def _simnet(argv: str) -> tuple[int, str, str]:
    table, chain = _chain(argv)
    rs = Ruleset()
    try:
        iptables(rs, shlex.split(argv))
    except IptablesError as e:
        return e.exit_code, str(e).splitlines()[0], iptables(rs, ["-t", table, "-S", chain])
    return 0, "", iptables(rs, ["-t", table, "-S", chain])


@pytest.mark.parametrize("argv", CASES, ids=lambda a: a[:60])
def test_module_commands_agree_with_the_real_tool(argv: str) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    assert _simnet(argv) == _kernel(argv)


def _kernel_counters(rules: list[str], send: str) -> list[int]:
    """Packet counters of ``rules`` (OUTPUT) after ``send`` (a python3 snippet) ran on loopback in a new netns."""
    script = ("ip link set lo up && " + " && ".join(f"iptables {r}" for r in rules)
              + f" && python3 -c {shlex.quote(send)}; iptables -w -L OUTPUT -v -x -n")
    proc = subprocess.run(["unshare", "--net", "--", "sh", "-c", script], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return [int(line.split()[0]) for line in proc.stdout.splitlines()[2:]]


def test_udp_reversed_range_verdicts_agree_with_the_kernel() -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from tests.unit.netfilter.test_matches_xt import ctx, m, udp
    rules = ["-A OUTPUT -p udp -m udp --dport 60000:29", "-A OUTPUT -p udp ! --dport 60000:29",
             "-A OUTPUT -p udp --dport 29:60000"]
    send = ("import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "for p in (29, 40000, 60000, 65000): s.sendto(b'x', ('127.0.0.1', p))")
    kernel = _kernel_counters(rules, send)
    c = ctx()
    sim = [sum(m(r.split(" ", 2)[2]).matches(udp(dport=p), c) for p in (29, 40000, 60000, 65000)) for r in rules]
    assert sim == kernel == [0, 4, 3]


SCRIPTS = sorted((Path(__file__).parents[1] / "data" / "xt").glob("*.sh"))


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_module_scenarios_agree_with_the_kernel(path: Path) -> None:
    """Probe outcomes and every rule counter of tests/data/xt/*.sh agree with the kernel (simnet.conformance)."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from simnet.conformance import compare, run_on_kernel
    from simnet.script.interpreter import run_script

    sim = run_script(path.read_text(), filename=str(path)).to_json()
    kernel = run_on_kernel(str(path))
    assert not compare(sim, kernel), "\n".join(compare(sim, kernel))
    assert all(p["expect"] is None or p["expect"]["ok"] for p in sim["probes"] + kernel["probes"])


def test_time_verdicts_agree_with_the_kernel_clock() -> None:
    """-m time rules built around the current UTC time: the kernel's counters and simnet's verdicts at that instant."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    import time

    from tests.unit.netfilter.test_matches_xt import ctx, m, udp
    now = time.time()
    t = time.gmtime(now)
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[t.tm_wday]
    hms = lambda s: time.strftime("%H:%M:%S", time.gmtime(s))  # noqa: E731
    date = lambda s: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s))  # noqa: E731
    specs = [f"--datestop {date(now - 86400)}", f"--datestart {date(now - 86400)}", f"--weekdays {day}",
             f"! --weekdays {day}", f"--monthdays {t.tm_mday}", f"! --monthdays {t.tm_mday}",
             f"--timestart {hms(now - 600)} --timestop {hms(now + 600)}",
             f"--timestart {hms(now + 3600)} --timestop {hms(now + 7200)}"]
    rules = [f"-A OUTPUT -p udp -m time {s}" for s in specs]
    send = "import socket\nsocket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', 9))"
    kernel = _kernel_counters(rules, send)
    c = ctx()
    c.now = time.time()
    assert [int(m(r.split(" ", 2)[2]).matches(udp(dport=9), c)) for r in rules] == kernel
    assert kernel[:6] == [0, 1, 1, 0, 1, 0]

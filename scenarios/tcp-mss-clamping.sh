#!/bin/sh
# The MSS a SYN advertises and how a router's TCPMSS rule lowers it (issue #15). The client's
# default route says `advmss 1200`, so its SYN carries MSS 1200 instead of its device's 1460; the
# server sits behind a 1400-byte link and its SYN-ACK answers 1360 (MTU less 40). The router
# counts each MSS it forwards with `-m tcpmss` rules. Then TCPMSS: `--set-mss 1000` without a
# SYN match lowers both options and *adds* an MSS of 536 to the ACK and the RST (they carried
# none: 4 bytes more each, counted by every rule after it); `--clamp-mss-to-pmtu` in POSTROUTING
# lowers the client's 1460 to the 1400-byte link's 1360; `--set-mss 0` writes 0, which the
# server ignores (it then assumes 536). xt_TCPMSS never raises an MSS. Checked on Linux 6.18.
ip netns add client
ip netns add server
ip netns add router
ip -n client link add eth0 type veth peer name lan netns router
ip -n server link add eth0 type veth peer name wan netns router
ip -n client addr add 10.0.1.2/24 dev eth0
ip -n router addr add 10.0.1.1/24 dev lan
ip -n server addr add 10.0.2.2/24 dev eth0
ip -n router addr add 10.0.2.1/24 dev wan
ip -n client link set eth0 up
ip -n router link set lan up
ip -n router link set wan up
ip -n server link set eth0 up
ip -n client route add default via 10.0.1.1 advmss 1200
ip -n server route add default via 10.0.2.1
ip netns exec router sysctl -qw net.ipv4.ip_forward=1
ip -n server link set eth0 mtu 1400
ip -n router link set wan mtu 1400
ip -n client route
ip netns exec router iptables -A FORWARD -p tcp -m tcpmss --mss 536
ip netns exec router iptables -A FORWARD -p tcp -m tcpmss --mss 1000
ip netns exec router iptables -A FORWARD -p tcp -m tcpmss --mss 1200
ip netns exec router iptables -A FORWARD -p tcp -m tcpmss --mss 1360
ip netns exec router iptables -A FORWARD -p tcp -m tcpmss --mss 1460
ip netns exec router iptables -A FORWARD -p tcp -m tcpmss ! --mss 0:65535
ip netns exec server nc -l -k -p 80 &
ip netns exec client nc -z -w 1 10.0.2.2 80
# expect: connected via filter/FORWARD#3
ip netns exec router iptables -t mangle -A FORWARD -p tcp -j TCPMSS --set-mss 1000
ip netns exec client nc -z -w 1 10.0.2.2 80
# expect: connected via filter/FORWARD#1
ip netns exec router iptables -t mangle -F
ip netns exec router iptables -t mangle -A POSTROUTING -p tcp --tcp-flags SYN,RST SYN -o wan -j TCPMSS --clamp-mss-to-pmtu
ip -n client route replace default via 10.0.1.1
ip netns exec client nc -z -w 1 10.0.2.2 80
# expect: connected via filter/FORWARD#4
ip netns exec router iptables -t mangle -F
ip netns exec router iptables -t mangle -A FORWARD -p tcp --syn -j TCPMSS --set-mss 0
ip netns exec client nc -z -w 1 10.0.2.2 80
# expect: connected
ip netns exec router iptables-save -c -t mangle
ip netns exec router iptables -t mangle -nvL POSTROUTING

#!/bin/sh
# A large HTTP download through a router whose next link has MTU 1400 (issue #15; checked on
# Linux 6.18). The client's SYN offers MSS 1460 (its own MTU is 1500), so http.server sends
# 1448-byte segments with DF; the router cannot forward them into the 1400-byte link and answers
# "fragmentation needed, mtu 1400" to the server. While the router's firewall drops the ICMP it
# sends, the server never learns the path MTU: a small file arrives, a large one stalls
# (curl --max-time: no status, exit 28). Accepting ICMP 3/4 before the DROP fixes it: the server
# learns 1400 and resends 1348-byte segments. The files come from the file model (head -c,
# truncate: a sparse file of zeros).
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
ip -n client route add default via 10.0.1.1
ip -n server route add default via 10.0.2.1
ip netns exec router sysctl -qw net.ipv4.ip_forward=1
ip -n router link set lan mtu 1400
mkdir -p /tmp/www
head -c 100 /dev/zero > /tmp/www/small
head -c 50000 /dev/zero > /tmp/www/big
truncate -s 30000 /tmp/www/sparse
ip netns exec server python3 -m http.server --directory /tmp/www 8000 &
ip netns exec client curl -s -m 2 -o /dev/null -w '%{http_code} %{exitcode}\n' http://10.0.2.2:8000/small
# expect: connected complete
ip netns exec router iptables -A OUTPUT -p icmp -j DROP
ip netns exec client curl -s -m 2 -o /dev/null -w '%{http_code} %{exitcode}\n' http://10.0.2.2:8000/big
# expect: connected stalled
ip netns exec client curl -s -m 2 -o /dev/null -w '%{http_code} %{exitcode}\n' http://10.0.2.2:8000/sparse
# expect: connected stalled
ip netns exec router iptables -I OUTPUT -p icmp --icmp-type fragmentation-needed -j ACCEPT
ip netns exec client curl -s -m 2 -o /dev/null -w '%{http_code} %{exitcode}\n' http://10.0.2.2:8000/sparse
# expect: connected complete via filter/OUTPUT#1
ip netns exec server ip route get 10.0.1.2

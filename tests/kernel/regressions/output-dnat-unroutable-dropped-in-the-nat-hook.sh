#!/bin/sh
# Issue #13.5, seen on Linux 6.18: DNAT in nat OUTPUT of a loopback-sourced packet to 10.0.0.2
# makes it unroutable (a loopback source leaves a real device only with route_localnet). The nat
# hook drops it (nf_nat_ipv4_local_fn -> ip_route_me_harder, EINVAL for the UDP sender), so
# filter OUTPUT (priority 0, after nat at -100) never counts it; mangle OUTPUT (-150) does.
# simnet counted it in filter OUTPUT and dropped it afterwards.
ip netns add ra
ip netns add rb
ip -n ra link set lo up
ip -n rb link set lo up
ip -n ra link add eth0 type veth peer name eth0 netns rb
ip -n ra addr add 10.0.0.1/24 dev eth0
ip -n rb addr add 10.0.0.2/24 dev eth0
ip -n ra link set eth0 up
ip -n rb link set eth0 up
ip netns exec ra iptables -t nat -A OUTPUT -d 127.0.0.1 -p tcp --dport 80 -j DNAT --to-destination 10.0.0.2:80
ip netns exec ra iptables -t nat -A OUTPUT -d 127.0.0.1 -p udp --dport 53 -j DNAT --to-destination 10.0.0.2:53
ip netns exec ra iptables -A OUTPUT -p tcp --dport 80
ip netns exec ra iptables -A OUTPUT -p udp --dport 53
ip netns exec ra iptables -t mangle -A OUTPUT -p tcp --dport 80
ip netns exec ra iptables -t nat -A POSTROUTING -p tcp --dport 80
ip netns exec rb nc -l -k -p 80 &
ip netns exec rb nc -u -l -k -p 53 &
ip netns exec ra nc -z -w 1 127.0.0.1 80
echo x | ip netns exec ra nc -u -w 1 127.0.0.1 53
ip netns exec ra nc -z -w 1 10.0.0.2 80

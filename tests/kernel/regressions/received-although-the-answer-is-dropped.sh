#!/bin/sh
# Found by the differential fuzzer: the reply is dropped (timeout), but the receiver saw the
# echo request; the kernel runner looked at the receivers only for answered probes.
ip netns add fy0
ip netns add fy1
ip netns exec fy0 sysctl -q -w net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0
ip -n fy0 link set lo up
ip netns exec fy1 sysctl -q -w net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0
ip -n fy1 link set lo up
ip -n fy0 link add br0 type bridge
ip -n fy0 link set br0 up
ip -n fy0 addr add 10.9.0.1/24 dev br0
ip -n fy0 link add d1 type veth peer name eth0 netns fy1
ip -n fy0 link set d1 master br0
ip -n fy0 link set d1 up
ip -n fy1 addr add 10.9.0.2/24 dev eth0
ip -n fy1 link set eth0 up
ip netns exec fy0 sysctl -w net.ipv4.ip_forward=1
ip netns exec fy1 sysctl -w net.ipv4.ip_forward=1
ip netns exec fy0 iptables -A INPUT -p tcp -s 10.9.0.1 -j ACCEPT
ip netns exec fy0 iptables -A OUTPUT -p tcp --dport 9 -j REJECT --reject-with icmp-admin-prohibited
ip netns exec fy0 iptables -A OUTPUT -p udp -j ACCEPT
ip netns exec fy1 iptables -N U
ip netns exec fy1 iptables -A U -p tcp -d 10.9.0.0/24 -j RETURN
ip netns exec fy1 iptables -A U -p tcp -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN
ip netns exec fy1 iptables -A INPUT -p icmp -j DROP
ip netns exec fy1 iptables -A FORWARD -p udp --dport 53 -j DROP
ip netns exec fy1 iptables -A FORWARD -j DROP
ip netns exec fy1 iptables -A OUTPUT -m conntrack --ctstate NEW -j ACCEPT
ip netns exec fy1 iptables -t nat -A PREROUTING -p tcp --dport 9 -j DNAT --to-destination 10.9.0.1:8080
ip netns exec fy0 nc -u -l 53 &
ip netns exec fy0 nc -u -l 5353 &
ip netns exec fy1 nc -l -k 80 &
ip netns exec fy1 nc -u -l 53 &
ip netns exec fy1 nc -u -l 5353 &
ip netns exec fy0 ping -c 1 -W 1 10.9.0.2
ip netns exec fy1 ping -c 1 -W 1 10.9.0.1
echo x | ip netns exec fy0 nc -u -w 1 10.9.0.1 5353

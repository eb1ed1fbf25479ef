#!/bin/sh
# A router sends every DNS query from its LAN to a filtering resolver, whatever server the client
# asked (DNAT of udp/53 in nat/PREROUTING). The filter answers NXDOMAIN for a blocked name and
# forwards the rest to the real upstream; the client never notices: conntrack turns the answers'
# source back into the server it asked (dig's SERVER line shows it).
ip netns add client
ip netns add router
ip netns add filter
ip netns add upstream
ip -n router link add lan type veth peer name eth0 netns client
ip -n router link add dmz type veth peer name eth0 netns filter
ip -n router link add wan type veth peer name eth0 netns upstream
ip -n client link set lo up
ip -n router link set lo up
ip -n filter link set lo up
ip -n upstream link set lo up
ip -n router link set lan up
ip -n router link set dmz up
ip -n router link set wan up
ip -n client link set eth0 up
ip -n filter link set eth0 up
ip -n upstream link set eth0 up
ip -n router addr add 10.1.0.1/24 dev lan
ip -n router addr add 10.2.0.1/24 dev dmz
ip -n router addr add 198.51.100.1/24 dev wan
ip -n client addr add 10.1.0.10/24 dev eth0
ip -n filter addr add 10.2.0.53/24 dev eth0
ip -n upstream addr add 198.51.100.53/24 dev eth0
ip -n client route add default via 10.1.0.1
ip -n filter route add default via 10.2.0.1
ip -n upstream route add default via 198.51.100.1
ip netns exec router sysctl -w net.ipv4.ip_forward=1
ip netns exec upstream dnsmasq -k --listen-address=198.51.100.53 --bind-interfaces --no-resolv --no-hosts --address=/example.com/203.0.113.80 --address=/ads.example/203.0.113.66 &
ip netns exec filter dnsmasq -k --listen-address=10.2.0.53 --bind-interfaces --no-resolv --no-hosts --address=/ads.example/ --server=198.51.100.53 --min-port=32768 --max-port=60999 &
ip netns exec router iptables -t nat -A PREROUTING -i lan -p udp --dport 53 -j DNAT --to-destination 10.2.0.53
ip netns exec router iptables -A FORWARD -i lan -o wan -p udp --dport 53 -j DROP
# the client asks the upstream for a blocked name: the filter answers NXDOMAIN in its place
ip netns exec client dig @198.51.100.53 ads.example
# expect: reply
# any other name: the filter forwards it to the upstream and relays the answer
ip netns exec client dig @198.51.100.53 www.example.com +short
# expect: reply
# the filter's own forwarded query is not redirected (it does not come in on lan)
ip netns exec filter dig @198.51.100.53 ads.example +short
# expect: reply

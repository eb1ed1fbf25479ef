#!/bin/sh
# Solution of exercise 09-after-return: Docker 27's DOCKER-USER ends in -j RETURN, and the admin appended a DROP after it. Make the DROP count.
ip netns add host
ip netns add client
ip -n host link set lo up
ip -n client link set lo up
ip -n host link add eth0 type veth peer name eth0 netns client
ip -n host addr add 203.0.113.10/24 dev eth0
ip -n client addr add 203.0.113.20/24 dev eth0
ip -n host link set eth0 up
ip -n client link set eth0 up
ip netns exec host dockerd --era 27 &
ip netns exec host docker run -d -p 8080:80 --name web nginx
ip netns exec host iptables -A DOCKER-USER -s 203.0.113.20/32 -j DROP

# >>> solution
ip netns exec host iptables -D DOCKER-USER -j RETURN
# <<< solution

ip netns exec client nc -z -w 1 203.0.113.10 8080
# expect: timeout

r() { echo "\$ iptables $*"; iptables "$@"; echo "rc=$?"; }
r -L Z
r -S Z
r -N A
r -N B
r -A INPUT -j A
r -A A -j B
r -A B -j A
r -A B -g A
r -A B -j INPUT
r -I A 5 -j ACCEPT
r -I A 2 -j ACCEPT
r -I A 3 -j ACCEPT
r -R A 5 -j ACCEPT
r -R A 1 -j DROP
r -D A 5
r -D A 0
r -A A -s 10.0.0.1 -p tcp --dport 80 ! -i eth0 -o br+ -j ACCEPT
r -A A -s 10.0.0.0/8 -d 1.2.3.4 -p udp -j DROP
r -A A -p icmp -j REJECT
r -A A -p 47 -j ACCEPT
r -A A -p gre -j ACCEPT
r -A A -p all -j ACCEPT
r -A A ! -p tcp -j ACCEPT
r -A A -f -j ACCEPT
r -A A ! -f -j ACCEPT
r -A A -m comment --comment "hi there" -j ACCEPT
r -A A -m conntrack --ctstate NEW -m mark --mark 1 -j ACCEPT
r -A A -p tcp -m multiport --dports 1,2 -j DNAT --to-destination 1.2.3.4
r -t nat -A PREROUTING -p tcp -m multiport --dports 1,2 -j DNAT --to-destination 1.2.3.4
r -A B -j LOG
r -L A
r -L A -n
r -L A -v
r -L A -v -n --line-numbers
r -S A
r -S A 2
r -S A 99
r -L A 2
r -t nat -L -n
r -L INPUT -n -v
r -C A -j ACCEPT
r -C A -j LOG
r -D A -p tcp -s 10.0.0.1 --dport 80 ! -i eth0 -o br+ -j ACCEPT
r -X B
r -F B
r -X B
r -D INPUT 1
r -X A

r() { echo "\$ iptables $*"; iptables "$@"; echo "rc=$?"; }
r -N A
r -N A
r -N B
r -A A -j B
r -A B -j A
r -A B -g A
r -A B -j C
r -X A
r -X B
r -D A -j ACCEPT
r -D A 5
r -D Z -j ACCEPT
r -A Z -j ACCEPT
r -F Z
r -X Z
r -P A ACCEPT
r -P INPUT FOO
r -P INPUT REJECT
r -E A B
r -E A C
r -E Q R
r -C A -j B
r -C A -j ACCEPT
r -I A 5 -j ACCEPT
r -I A 2 -j ACCEPT
r -R A 5 -j ACCEPT
r -A INPUT -p tcp --dport 99999 -j ACCEPT
r -A INPUT -m foo -j ACCEPT
r -A INPUT -j FOO
r -A INPUT --bogus
r -A INPUT -s 1.2.3.400
r -A INPUT -p tcpx
r -A INPUT --dport 80
r -t foo -L
r -N INPUT
r -X INPUT
r -Q
r -A
r -A INPUT extra
r -N ' bad'
r -N abcdefghijabcdefghijabcdefghijX
r -N abcdefghijabcdefghijabcdefghij
r -L A
r -S A
r -S
r -L -n
r -L -v -n -x --line-numbers
r -X
r -F
r -X
r -S INPUT 1

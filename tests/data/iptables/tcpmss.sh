r() { echo "\$ iptables $*"; iptables "$@" 2>&1; echo "rc=$?"; }
r -t mangle -A FORWARD -j TCPMSS --set-mss 1000
r -t mangle -A FORWARD -p tcp -j TCPMSS --set-mss 1000
r -t mangle -A FORWARD -p tcp --syn -j TCPMSS --set-mss 1000 --clamp-mss-to-pmtu
r -t mangle -A FORWARD -p tcp --syn -j TCPMSS --clamp-mss-to-pmtu --set-mss 1000
r -t mangle -A FORWARD -p tcp --syn -j TCPMSS
r -t mangle -A FORWARD -p tcp --syn -j TCPMSS --set-mss 70000
r -t mangle -A FORWARD -p tcp --syn -j TCPMSS --set-mss 65515
r -t mangle -A FORWARD -p tcp --syn -j TCPMSS --set-mss 65516
r -t mangle -A FORWARD -p tcp --syn -j TCPMSS --set-mss foo
r -t mangle -A FORWARD -p tcp --syn -j TCPMSS --set-mss -1
r -t mangle -A FORWARD -p tcp --syn -j TCPMSS --set-mss 0x10
r -t mangle -A FORWARD -p tcp --syn -j TCPMSS --set-mss 0
r -t mangle -A FORWARD -p tcp --syn -j TCPMSS --set-mss 1000 --set-mss 900
r -t mangle -A FORWARD -p tcp --syn -j TCPMSS --clamp-mss-to-pmtu --clamp-mss-to-pmtu
r -t mangle -A FORWARD -p tcp --syn -j TCPMSS --set-mss
r -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -o eth0 -j TCPMSS --clamp-mss-to-pmtu
r -t mangle -A POSTROUTING -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
r -t mangle -A OUTPUT -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
r -t mangle -A PREROUTING -p tcp --syn -j TCPMSS --clamp-mss-to-pmtu
r -t mangle -A INPUT -p tcp --syn -j TCPMSS --clamp-mss-to-pmtu
r -t mangle -A INPUT -p tcp --syn -j TCPMSS --set-mss 1200
r -t mangle -A FORWARD -p udp -j TCPMSS --set-mss 1000
r -t mangle -A FORWARD ! -p tcp -j TCPMSS --set-mss 1000
r -t mangle -A FORWARD -p 6 --syn -j TCPMSS --set-mss 1100
r -t raw -A PREROUTING -p tcp --syn -j TCPMSS --set-mss 1000
r -t filter -A FORWARD -p tcp -j TCPMSS --clamp-mss-to-pmtu
r -A INPUT -m tcpmss --mss 536
r -A INPUT -p tcp -m tcpmss --mss 500:600
r -A INPUT -p tcp -m tcpmss ! --mss 536
r -A INPUT -p tcp -m tcpmss --mss 600:500
r -A INPUT -p tcp -m tcpmss --mss 70000
r -A INPUT -p tcp -m tcpmss --mss :600
r -A INPUT -p tcp -m tcpmss --mss 600:
r -A INPUT -p tcp -m tcpmss
r -S
r -t mangle -S
r -t mangle -L -n
r -t mangle -L FORWARD
r -L INPUT

r() { echo "\$ iptables $*"; iptables "$@" 2>&1; echo "rc=$?"; }
r -N TTL
r -N DNAT
r -N LOG
r -N CLASSIFY
r -N standard
r -N NAT
r -N ERROR
r -N log
r -N FOO
r -E FOO TTL
r -A INPUT -j TTL
r -S

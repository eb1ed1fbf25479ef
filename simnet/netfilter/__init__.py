"""Netfilter: iptables tables, conntrack and NAT, registered at the kernel hooks."""

"""DNS: the message codec, a server API, glibc's stub resolver and dnsmasq.

* :mod:`simnet.dns.message` -- messages in the real wire format (sizes as the kernel counts them);
* :mod:`simnet.dns.server` -- :class:`DnsServer`: UDP sockets in a namespace that answer through
  an ``answer(query, client)`` function (a reply, a :class:`Forward`, or silence);
* :mod:`simnet.dns.resolver` -- resolv.conf and hosts as glibc reads them, getaddrinfo and
  gethostbyname2 over ``files dns``, queries sent through the namespace's stack;
* :mod:`simnet.dns.dnsmasq` -- dnsmasq's options and answers.
"""

from simnet.dns.message import (DecodeError, EdnsOption, Message, QClass, QType, Question, Rcode, Record, decode,
                                opt_record)
from simnet.dns.resolver import Lookup, ResolvConf, getaddrinfo, gethostbyname2, parse_hosts, parse_resolv_conf
from simnet.dns.server import Client, DnsServer, Forward

__all__ = ["Client", "DecodeError", "DnsServer", "EdnsOption", "Forward", "Lookup", "Message", "QClass", "QType",
           "Question", "Rcode", "Record", "ResolvConf", "decode", "getaddrinfo", "gethostbyname2", "opt_record",
           "parse_hosts", "parse_resolv_conf"]

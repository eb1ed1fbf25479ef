"""DNS: the message codec, a server API, glibc's stub resolver and dnsmasq.

* :mod:`simnet.dns.message` -- messages in the real wire format (sizes as the kernel counts them);
* :mod:`simnet.dns.server` -- :class:`DnsServer`: UDP sockets in a namespace that answer through
  an ``answer(query, client)`` function (a reply, a :class:`Forward`, or silence);
* :mod:`simnet.dns.resolver` -- resolv.conf and hosts as glibc reads them, getaddrinfo and
  gethostbyname2 over ``files dns``, queries sent through the namespace's stack;
* :mod:`simnet.dns.dnsmasq` -- dnsmasq's options and answers.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simnet.dns.message import (DecodeError, EdnsOption, Message, QClass, QType, Question, Rcode, Record, decode,
                                    opt_record)
    from simnet.dns.resolver import Lookup, ResolvConf, getaddrinfo, gethostbyname2, parse_hosts, parse_resolv_conf
    from simnet.dns.server import Client, DnsServer, Forward

_WHERE = {"message": ("DecodeError", "EdnsOption", "Message", "QClass", "QType", "Question", "Rcode", "Record",
                      "decode", "opt_record"),
          "resolver": ("Lookup", "ResolvConf", "getaddrinfo", "gethostbyname2", "parse_hosts", "parse_resolv_conf"),
          "server": ("Client", "DnsServer", "Forward")}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}
"""Each name loads its module on first use (PEP 562): a tool given an address (``ping 10.0.0.1``)
imports no DNS code at all."""


def __getattr__(name: str) -> object:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    globals()[name] = value
    return value


__all__ = ["Client", "DecodeError", "DnsServer", "EdnsOption", "Forward", "Lookup", "Message", "QClass", "QType",
           "Question", "Rcode", "Record", "ResolvConf", "decode", "getaddrinfo", "gethostbyname2", "opt_record",
           "parse_hosts", "parse_resolv_conf"]

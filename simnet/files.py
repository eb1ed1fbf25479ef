"""One host's files: what scripts write with ``echo ... > FILE`` and read with ``cat FILE``.

Files belong to a mount namespace, not to a network namespace: every ``ip netns add``
namespace of a simulated host shares the host's files.  The one exception is what
``ip netns exec NAME`` sets up for the command it runs: it unshares the mount namespace
and bind-mounts every entry of ``/etc/netns/NAME`` over the same name in ``/etc``
(iproute2 ``lib/namespace.c`` ``bind_etc()``), so ``/etc/netns/NAME/resolv.conf`` is
the command's ``/etc/resolv.conf``.  An entry whose ``/etc`` counterpart does not exist
is not mounted (iproute2 prints ``Bind ... failed: No such file or directory`` and runs
the command anyway).  Every path operation here takes ``netns`` (the NAME of the
``ip netns exec`` the caller runs under, or None) and resolves through those binds.

A fresh :class:`FileSystem` looks like a small Debian host: ``/etc``, ``/tmp``, ``/root``,
``/var``, ``/srv``, ``/usr``, ``/dev`` and ``/run`` exist (``/etc/netns`` does not: scripts
``mkdir -p /etc/netns/NAME`` as on a real host), ``/etc/hosts`` holds the localhost lines
Debian's installer writes, and ``/etc/resolv.conf`` points at systemd-resolved's stub
listener 127.0.0.53, as on a stock Ubuntu host (nothing answers there unless a script
starts a resolver: Docker replaces such loopback servers in its containers).  Relative
paths are relative to ``/root`` (root's home, where a root shell starts).

Contents are bytes; a run of zeros (``head -c 10M /dev/zero``, ``truncate -s``) is kept as a
length, not as bytes, so large sized files cost nothing until someone reads them.

Example:
    >>> fs = FileSystem()
    >>> fs.mkdir("/etc/netns/a", parents=True)
    >>> fs.write("/etc/netns/a/resolv.conf", b"nameserver 10.0.0.53\\n")
    >>> fs.read("/etc/resolv.conf", netns="a")
    b'nameserver 10.0.0.53\\n'
    >>> fs.read("/etc/resolv.conf").splitlines()[0]
    b'nameserver 127.0.0.53'
    >>> fs.truncate("/tmp/big", 10 << 20); fs.size("/tmp/big")
    10485760
"""

from __future__ import annotations

import errno as _errno
import os
import posixpath
from dataclasses import dataclass

from simnet.errors import KernelError

__all__ = ["DEFAULT_HOSTS", "DEFAULT_RESOLV_CONF", "Content", "FileError", "FileSystem"]

DEFAULT_HOSTS = (
    "127.0.0.1\tlocalhost\n"
    "::1\t\tlocalhost ip6-localhost ip6-loopback\n"
    "ff02::1\t\tip6-allnodes\n"
    "ff02::2\t\tip6-allrouters\n"
)
"""A fresh Debian host's ``/etc/hosts`` (without the ``127.0.1.1 HOSTNAME`` line: simulated hosts have no name)."""

DEFAULT_RESOLV_CONF = (
    "nameserver 127.0.0.53\n"
    "options edns0 trust-ad\n"
    "search .\n"
)
"""``/etc/resolv.conf`` as systemd-resolved writes its stub file on Ubuntu (the comment lines left out)."""

DEFAULT_DIRS = ("/etc", "/tmp", "/root", "/var", "/var/tmp", "/var/www", "/srv", "/usr", "/dev", "/run",
                "/home", "/opt", "/proc", "/sys")

_DEVICES = frozenset({"/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"})


class FileError(KernelError):
    """A file operation failed: the errno, and the path the tools name in their messages.

    ``str()`` is strerror's text (``No such file or directory``); each tool words the line
    around it as it does (``cat: PATH: ...``, ``rm: cannot remove 'PATH': ...``).
    """

    def __init__(self, errno: int, path: str) -> None:
        super().__init__(errno, os.strerror(errno))
        self.path = path


@dataclass(frozen=True, slots=True)
class Content:
    """A file's bytes as runs: ``bytes`` written, or ``int`` zero bytes (a sparse run).

    >>> c = Content.of(b"ab").grow(3).append(b"c")
    >>> c.size, c.materialize()
    (6, b'ab\\x00\\x00\\x00c')
    >>> c.cut(3).materialize()
    b'ab\\x00'
    """

    runs: tuple[bytes | int, ...] = ()

    @staticmethod
    def of(data: bytes) -> "Content":
        return Content((data,) if data else ())

    @staticmethod
    def zeros(n: int) -> "Content":
        return Content((n,) if n else ())

    @property
    def size(self) -> int:
        return sum(r if isinstance(r, int) else len(r) for r in self.runs)

    def materialize(self) -> bytes:
        return b"".join(bytes(r) if isinstance(r, int) else r for r in self.runs)

    def append(self, other: "bytes | Content") -> "Content":
        more = Content.of(other) if isinstance(other, bytes) else other
        runs = list(self.runs)
        for r in more.runs:
            if runs and type(runs[-1]) is type(r):
                runs[-1] = runs[-1] + r  # type: ignore[operator]
            elif r:
                runs.append(r)
        return Content(tuple(runs))

    def grow(self, n: int) -> "Content":
        """Extended by ``n`` zero bytes (what ``truncate`` adds: a hole reads as zeros)."""
        return self.append(Content.zeros(n))

    def cut(self, size: int) -> "Content":
        """The first ``size`` bytes."""
        runs: list[bytes | int] = []
        left = size
        for r in self.runs:
            n = r if isinstance(r, int) else len(r)
            if left <= 0:
                break
            runs.append(r if n <= left else (left if isinstance(r, int) else r[:left]))
            left -= min(n, left)
        return Content(tuple(runs))

    def resized(self, size: int) -> "Content":
        """``truncate -s SIZE``: cut, or extended with zeros."""
        have = self.size
        return self.cut(size) if size <= have else self.grow(size - have)


class FileSystem:
    """The files of one mount namespace (a simulated host's, or a container's).

    Kernel: a mount namespace's tree, with the bind mounts ``ip netns exec`` adds per command.
    """

    def __init__(self, *, defaults: bool = True, cwd: str = "/root") -> None:
        self._dirs: set[str] = {"/"}
        self._files: dict[str, Content] = {}
        self.cwd = cwd
        if defaults:
            self._dirs.update(DEFAULT_DIRS)
            self._files["/etc/hosts"] = Content.of(DEFAULT_HOSTS.encode())
            self._files["/etc/resolv.conf"] = Content.of(DEFAULT_RESOLV_CONF.encode())

    def copy(self) -> "FileSystem":
        """An independent copy (a container's files start as a copy of its image's)."""
        fs = FileSystem(defaults=False, cwd=self.cwd)
        fs._dirs = set(self._dirs)
        fs._files = dict(self._files)
        return fs

    # -- paths -----------------------------------------------------------------------------

    def abspath(self, path: str) -> str:
        """``path`` made absolute against :attr:`cwd` and normalised (``..``, ``//``, ``.``)."""
        p = posixpath.normpath(posixpath.join(self.cwd, path))
        return "/" + p.lstrip("/")  # normpath keeps a leading '//'

    def binds(self, netns: str) -> dict[str, str]:
        """The bind mounts ``ip netns exec NETNS`` makes: ``/etc/E`` -> ``/etc/netns/NETNS/E``.

        Kernel/iproute2: ``bind_etc()`` mounts every entry of ``/etc/netns/NETNS``; a mount onto a
        missing ``/etc/E`` fails (ENOENT) and one of a file onto a directory or back fails (ENOTDIR).
        """
        base = f"/etc/netns/{netns}"
        if "/" in netns or base not in self._dirs:
            return {}
        out: dict[str, str] = {}
        for entry in self._children(base):
            src, dst = f"{base}/{entry}", f"/etc/{entry}"
            if self._kind(dst) is not None and self._kind(dst) == self._kind(src):
                out[dst] = src
        return out

    def resolve(self, path: str, netns: str | None = None) -> str:
        """The path the host's tree holds for ``path`` as a command under ``ip netns exec NETNS`` sees it.

        >>> fs = FileSystem(); fs.mkdir("/etc/netns/b", parents=True); fs.write("/etc/netns/b/hosts", b"")
        >>> fs.resolve("/etc/hosts", "b"), fs.resolve("/etc/hosts"), fs.resolve("/etc/resolv.conf", "b")
        ('/etc/netns/b/hosts', '/etc/hosts', '/etc/resolv.conf')
        """
        p = self.abspath(path)
        if netns is None or not p.startswith("/etc/"):
            return p
        head = "/".join(p.split("/")[:3])  # /etc/E
        src = self.binds(netns).get(head)
        return p if src is None else src + p[len(head):]

    def _kind(self, p: str) -> str | None:
        if p in self._dirs:
            return "dir"
        if p in self._files or p in _DEVICES:
            return "file"
        return None

    def _children(self, d: str) -> list[str]:
        prefix = d.rstrip("/") + "/"
        names = {p[len(prefix):].split("/")[0] for p in (*self._dirs, *self._files) if p.startswith(prefix)}
        return sorted(n for n in names if n)

    def _target(self, path: str, netns: str | None) -> str:
        """Resolve, and refuse a trailing slash on a non-directory (ENOTDIR) as the kernel's lookup does."""
        p = self.resolve(path, netns)
        if path.endswith("/") and p in self._files:
            raise FileError(_errno.ENOTDIR, path)
        return p

    def _parent_ok(self, p: str, path: str) -> None:
        """The parent directory must exist: ENOENT if an ancestor is missing, ENOTDIR if one is a file."""
        q = posixpath.dirname(p)
        if q in self._dirs:
            return
        while q not in self._dirs:
            if q in self._files:
                raise FileError(_errno.ENOTDIR, path)
            q = posixpath.dirname(q)
        raise FileError(_errno.ENOENT, path)

    # -- queries ---------------------------------------------------------------------------

    def kind(self, path: str, netns: str | None = None) -> str | None:
        """``"file"``, ``"dir"`` or None (absent)."""
        return self._kind(self.resolve(path, netns))

    def exists(self, path: str, netns: str | None = None) -> bool:
        return self.kind(path, netns) is not None

    def is_dir(self, path: str, netns: str | None = None) -> bool:
        return self.kind(path, netns) == "dir"

    def listdir(self, path: str, netns: str | None = None) -> list[str]:
        """The names in a directory, sorted (without the binds of entries below it)."""
        p = self._target(path, netns)
        if p not in self._dirs:
            raise FileError(_errno.ENOTDIR if p in self._files else _errno.ENOENT, path)
        return self._children(p)

    def content(self, path: str, netns: str | None = None) -> Content:
        """A regular file's :class:`Content`; ``/dev/null`` reads empty."""
        p = self._target(path, netns)
        if p in self._dirs:
            raise FileError(_errno.EISDIR, path)
        if p == "/dev/null":
            return Content()
        if p in _DEVICES:
            raise FileError(_errno.EFBIG, path)  # endless: callers read a bounded prefix themselves
        try:
            return self._files[p]
        except KeyError:
            raise FileError(_errno.ENOENT, path) from None

    def read(self, path: str, netns: str | None = None) -> bytes:
        """A regular file's bytes (ENOENT, EISDIR as ``open``/``read`` give them)."""
        return self.content(path, netns).materialize()

    def read_text(self, path: str, netns: str | None = None) -> str:
        return self.read(path, netns).decode("utf-8", "replace")

    def size(self, path: str, netns: str | None = None) -> int:
        return self.content(path, netns).size

    def files(self) -> dict[str, int]:
        """Every regular file's absolute path and size (for reports and exports)."""
        return {p: c.size for p, c in sorted(self._files.items())}

    # -- changes ---------------------------------------------------------------------------

    def write(self, path: str, data: "bytes | Content", *, append: bool = False, netns: str | None = None) -> None:
        """``> FILE`` (create or truncate, then write) or ``>> FILE`` (create or append).

        Writing ``/dev/null`` discards the data.
        """
        p = self._target(path, netns)
        if p in self._dirs:
            raise FileError(_errno.EISDIR, path)
        if p in _DEVICES:
            return
        self._parent_ok(p, path)
        new = Content.of(data) if isinstance(data, bytes) else data
        old = self._files.get(p, Content()) if append else Content()
        self._files[p] = old.append(new)

    def truncate(self, path: str, size: int, *, create: bool = True, netns: str | None = None) -> None:
        """``truncate -s SIZE FILE``: cut or extend with zeros; creates the file unless ``create`` is off."""
        p = self._target(path, netns)
        if p in self._dirs:
            raise FileError(_errno.EISDIR, path)
        if p in _DEVICES:
            return
        if p not in self._files:
            if not create:
                return
            self._parent_ok(p, path)
        self._files[p] = self._files.get(p, Content()).resized(size)

    def mkdir(self, path: str, *, parents: bool = False, netns: str | None = None) -> None:
        """``mkdir [-p] DIR`` (EEXIST without -p for an existing name; ENOENT for a missing parent)."""
        p = self.resolve(path, netns)
        if p in self._dirs:
            if parents:
                return
            raise FileError(_errno.EEXIST, path)
        if p in self._files or p in _DEVICES:
            raise FileError(_errno.EEXIST if not parents else _errno.ENOTDIR, path)
        if parents:
            chain = []
            q = p
            while q not in self._dirs:
                if q in self._files:
                    raise FileError(_errno.ENOTDIR, path)
                chain.append(q)
                q = posixpath.dirname(q)
            self._dirs.update(chain)
            return
        self._parent_ok(p, path)
        self._dirs.add(p)

    def unlink(self, path: str, *, netns: str | None = None) -> None:
        """``rm FILE``: remove a regular file (EISDIR for a directory, ENOENT if absent)."""
        p = self._target(path, netns)
        if p in self._dirs:
            raise FileError(_errno.EISDIR, path)
        if p not in self._files:
            raise FileError(_errno.ENOENT, path)
        del self._files[p]

    def rmtree(self, path: str, *, netns: str | None = None) -> None:
        """``rm -r DIR``: a directory and everything below it (or a file)."""
        p = self._target(path, netns)
        if p in self._files:
            del self._files[p]
            return
        if p not in self._dirs or p == "/":
            raise FileError(_errno.ENOENT if p != "/" else _errno.EPERM, path)
        prefix = p + "/"
        self._dirs = {d for d in self._dirs if d != p and not d.startswith(prefix)}
        self._files = {f: c for f, c in self._files.items() if not f.startswith(prefix)}

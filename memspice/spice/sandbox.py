"""A sandbox the Linux kernel enforces around ngspice: no programs, writes only inside the run's folder.

ngspice's control language can run programs and write files in more ways
than a list of bad words can name (``shell``, ``set unixcom``, escaped or
variable-built command names, ``*#`` lines, redirections, ``run FILE``,
``snsave`` ...).  So memspice does not rely on reading the netlist: the
process that runs ngspice confines itself before ngspice starts, and the
kernel refuses what the confinement does not allow, whatever route the
netlist takes.

Layers (all unprivileged, nothing to install; see ``docs/security.md``):

* **Landlock** (Linux 5.13+): reads anywhere, writes (create, change,
  truncate, remove, rename) only beneath the run's folder (and
  ``/dev/null``); executing only the ngspice program and its loader, or
  nothing in the shared-mode worker.  ABI 4+: no TCP bind/connect; ABI 6+:
  no signals to, and no abstract Unix sockets of, processes outside.
* **seccomp**: ``execve`` is refused (and reported to memspice, which names
  the program in its error); ``execveat`` only for the one call that starts
  ngspice; ``socket`` refused; the terminal-injection ioctls refused.
* **user + mount + network namespace** (batch only): batch ngspice starts
  by creating a temporary file in ``/tmp`` (glibc ``tmpfile()``), so it gets
  a private ``/tmp`` inside the run's folder, where the real ``/tmp``'s
  entries appear as links into a read-only view; and a network namespace
  with no interfaces.

Public API for other modules (e.g. a co-simulation worker that loads
libngspice itself): :func:`support` / :func:`sandbox_available` probe what
this kernel offers; :func:`confine` confines the calling process (call it
in the worker, single-threaded, before loading libngspice);
:class:`Monitor` receives what the confined process tried (programs, writes).

This file uses the standard library only: it also runs as a script, the
launcher that confines itself and then executes ngspice
(``python -I -S sandbox.py exec CONFIG -- ngspice -b circuit.cir``) and
the shared-mode worker (``python -I sandbox.py worker CONFIG``).
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import socket
import struct
import sys

# only cheap modules at the top: the launcher starts for every batch run (``python -I -S``)
_MACHINE = os.uname().machine if hasattr(os, "uname") else ""

# --- Landlock (include/uapi/linux/landlock.h) -----------------------------------------------------
_SYS_LANDLOCK_CREATE_RULESET, _SYS_LANDLOCK_ADD_RULE, _SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1
FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REFER = 1 << 13
FS_TRUNCATE = 1 << 14
FS_IOCTL_DEV = 1 << 15
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1
_FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
#: make_char, make_sock, make_fifo, make_block, make_sym
_FS_MAKE_SPECIAL = (1 << 6) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12)


def _fs_rights(abi: int) -> int:
    """Every filesystem right the kernel's Landlock ABI ``abi`` knows (all are handled, hence denied by default)."""
    rights = (1 << 13) - 1  # ABI 1: execute ... make_sym
    if abi >= 2:
        rights |= FS_REFER
    if abi >= 3:
        rights |= FS_TRUNCATE
    if abi >= 5:
        rights |= FS_IOCTL_DEV
    return rights


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


# --- seccomp (include/uapi/linux/seccomp.h, filter.h, audit.h) --------------------------------------
_ARCH = {  # machine: (AUDIT_ARCH, seccomp, execve, execveat, socket, ioctl, x32 bit)
    "x86_64": (0xC000003E, 317, 59, 322, 41, 16, 0x40000000),
    "aarch64": (0xC00000B7, 277, 221, 281, 198, 29, 0),
}
#: machine: syscalls refused with ENOSYS: io_uring (its operations, IORING_OP_SOCKET among them, bypass the
#: seccomp filter; ngspice and Python do not use it)
_NOSYS = {"x86_64": (425, 426, 427), "aarch64": (425, 426, 427)}  # io_uring_setup, _enter, _register
#: machine: syscalls refused with EPERM.  Those that change a file's mode, owner, times or extended
#: attributes, which Landlock does not govern (a process that may only read a file could still chmod it if
#: it owns it); and setsid/setpgid, with which a child could leave the process group memspice kills at the end
_REFUSED = {
    # chmod fchmod chown fchown lchown utime utimes futimesat fchownat fchmodat utimensat fchmodat2,
    # setxattr lsetxattr fsetxattr removexattr lremovexattr fremovexattr setxattrat removexattrat, setpgid setsid
    "x86_64": (90, 91, 92, 93, 94, 132, 235, 261, 260, 268, 280, 452, 188, 189, 190, 197, 198, 199, 463, 466, 109, 112),
    # fchmod fchmodat fchownat fchown utimensat fchmodat2, the xattr calls as above, setpgid setsid
    "aarch64": (52, 53, 54, 55, 88, 452, 5, 6, 7, 14, 15, 16, 463, 466, 154, 157),
}
#: machine: {open-like syscall: index of its flags argument (None: always reported)}
_OPENS = {
    "x86_64": {2: 1, 257: 2, 85: None, 437: None},  # open, openat, creat, openat2
    "aarch64": {56: 2, 437: None},  # openat, openat2
}
_O_WRITES = 0o1 | 0o2 | 0o100 | 0o1000  # O_WRONLY | O_RDWR | O_CREAT | O_TRUNC
_RET_KILL_PROCESS, _RET_USER_NOTIF, _RET_ALLOW = 0x80000000, 0x7FC00000, 0x7FFF0000
_RET_ERRNO = 0x00050000
_NOTIF_FLAG_CONTINUE = 1
_SECCOMP_SET_MODE_FILTER, _FLAG_NEW_LISTENER = 1, 1 << 3
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C
_AT_EMPTY_PATH = 0x1000
#: descriptor number of the ngspice program during the launcher's one allowed ``execveat``
_EXEC_FD = 1021
_NOTIF_RECV, _NOTIF_SEND, _NOTIF_ID_VALID = 0xC0502100, 0xC0182101, 0x40082102
_PR_SET_NO_NEW_PRIVS, _PR_CAPBSET_DROP, _PR_SET_PDEATHSIG = 38, 24, 1


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


class _SeccompData(ctypes.Structure):
    _fields_ = [
        ("nr", ctypes.c_int32),
        ("arch", ctypes.c_uint32),
        ("ip", ctypes.c_uint64),
        ("args", ctypes.c_uint64 * 6),
    ]


class _Notif(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("pid", ctypes.c_uint32), ("flags", ctypes.c_uint32), ("data", _SeccompData)]


class _NotifResp(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("val", ctypes.c_int64), ("error", ctypes.c_int32), ("flags", ctypes.c_uint32)]


# --- namespaces and mounts (sched.h, mount.h) -------------------------------------------------------
_CLONE_NEWNS, _CLONE_NEWUSER, _CLONE_NEWNET = 0x00020000, 0x10000000, 0x40000000
_MS_RDONLY, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_NOATIME, _MS_NODIRATIME, _MS_RELATIME = 2, 4, 8, 1024, 2048, 1 << 21
_SYS_MOUNT_SETATTR = 442
_MOUNT_ATTR_RDONLY, _AT_RECURSIVE = 1, 0x8000

#: exit status of the launcher when it could not confine itself (nothing was run)
SETUP_FAILED = 125
_SETUP_TAG = "memspice-sandbox: cannot confine ngspice:"
#: folder inside the run's folder that batch ngspice sees as /tmp
PRIVATE_TMP = ".tmp"
#: pattern of the private /tmp's read-only view of the real /tmp (paths through it are shown as /tmp/...)
_HOST_VIEW = r"^/tmp/\.memspice-host-tmp-[0-9a-f]+/"


class SandboxError(OSError):
    """The kernel sandbox cannot be set up here (what is missing is in the message)."""


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise SandboxError(err, f"{what}: {os.strerror(err)}")
    return result


# --- probing -------------------------------------------------------------------------------------------
def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0: no Landlock: not Linux, kernel < 5.13, or disabled at boot)."""
    if sys.platform != "linux" or _MACHINE not in _ARCH:
        return 0
    try:
        libc = _libc()
    except OSError:
        return 0
    abi = libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), _LANDLOCK_CREATE_RULESET_VERSION)
    return max(int(abi), 0)


def _seccomp_notify() -> bool:
    try:
        with open("/proc/sys/kernel/seccomp/actions_avail") as fh:
            actions = fh.read().split()
    except OSError:
        return False
    return {"user_notif", "errno", "allow"} <= set(actions)


class Support:
    """What the kernel offers the sandbox; ``problems`` says why a mode cannot be confined."""

    def __init__(self, landlock_abi: int, seccomp: bool, private_tmp: bool, problems=()):
        self.landlock_abi = landlock_abi
        self.seccomp = seccomp
        self.private_tmp = private_tmp
        self.problems = list(problems)

    def __repr__(self) -> str:
        return (
            f"Support(landlock_abi={self.landlock_abi}, seccomp={self.seccomp}, private_tmp={self.private_tmp}, "
            f"problems={self.problems!r})"
        )

    @property
    def worker(self) -> bool:
        """A Python worker (shared mode, co-simulation) can be confined: Landlock and seccomp."""
        return self.landlock_abi >= 1 and self.seccomp

    @property
    def batch(self) -> bool:
        """Batch ngspice can be confined: the worker's layers plus a private /tmp."""
        return self.worker and self.private_tmp

    def why_not(self, batch: bool) -> str:
        return "; ".join(self.problems) or ("batch ngspice needs a private /tmp" if batch else "unknown")


_SUPPORT: list = []


def support() -> Support:
    """Probe the kernel once: Landlock ABI, seccomp user notification, unprivileged user namespaces.

    The user-namespace check starts the launcher once (``probe``), a Python start-up.
    """
    if not _SUPPORT:
        _SUPPORT.append(_probe())
    return _SUPPORT[0]


def _probe() -> Support:
    import platform

    problems = []
    abi = landlock_abi()
    if sys.platform != "linux":
        problems.append(f"the sandbox needs Linux (this is {sys.platform})")
    elif platform.machine() not in _ARCH:
        problems.append(f"the sandbox supports x86_64 and aarch64 (this is {platform.machine()})")
    elif abi < 1:
        problems.append("the kernel has no Landlock (Linux 5.13+ with landlock in the lsm= boot list)")
    seccomp = bool(abi) and _seccomp_notify()
    if abi and not seccomp:
        problems.append("the kernel's seccomp lacks user notification (Linux 5.5+)")
    private_tmp = False
    if abi and seccomp:
        private_tmp, why = _probe_private_tmp()
        if not private_tmp:
            problems.append(
                "batch ngspice needs a private /tmp and the kernel refused an unprivileged user namespace "
                f"({why}); shared mode (mode='shared') is confined without one"
            )
    return Support(abi, seccomp, private_tmp, problems)


def sandbox_available(batch: bool = False) -> bool:
    """Whether this kernel can confine ngspice: a worker process (default) or batch ngspice (``batch=True``)."""
    s = support()
    return s.batch if batch else s.worker


def _probe_private_tmp() -> tuple[bool, str]:
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="memspice-probe-") as d:
        try:
            proc = subprocess.run(
                [sys.executable, "-I", "-S", __file__, "probe", d],
                capture_output=True,
                text=True,
                timeout=30,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return False, str(exc)
    out = (proc.stdout + proc.stderr).strip()
    return proc.returncode == 0, out.replace(_SETUP_TAG, "").strip() or f"exit status {proc.returncode}"


# --- confinement (runs in the process to be confined) ----------------------------------------------------
def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        import threading

        return threading.active_count()


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _mount(libc, source, target, flags: int, what: str) -> None:
    src = None if source is None else os.fsencode(source)
    _check(libc.mount(src, os.fsencode(target), None, ctypes.c_ulong(flags), None), what)


def _read_only(libc, target: str) -> None:
    class MountAttr(ctypes.Structure):
        _fields_ = [(name, ctypes.c_uint64) for name in ("set", "clr", "propagation", "userns")]

    attr = MountAttr(_MOUNT_ATTR_RDONLY, 0, 0, 0)
    path = os.fsencode(target)
    r = libc.syscall(_SYS_MOUNT_SETATTR, -100, path, _AT_RECURSIVE, ctypes.byref(attr), ctypes.sizeof(attr))
    if r == 0:
        return
    # kernels before 5.12: remount the bind read-only, keeping the flags the parent namespace locked
    st = os.statvfs(target)
    keep = 0
    for bit, flag in ((os.ST_NOSUID, _MS_NOSUID), (os.ST_NODEV, _MS_NODEV), (os.ST_NOEXEC, _MS_NOEXEC)):
        if st.f_flag & bit:
            keep |= flag
    for bit, flag in ((os.ST_NOATIME, _MS_NOATIME), (os.ST_NODIRATIME, _MS_NODIRATIME), (os.ST_RELATIME, _MS_RELATIME)):
        if st.f_flag & bit:
            keep |= flag
    _mount(libc, None, target, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | keep, f"read-only view of /tmp at {target}")


def _private_tmp(libc, run_dir: str) -> None:
    """Enter new user, mount and network namespaces; ``/tmp`` becomes ``run_dir/.tmp``.

    The real ``/tmp`` stays readable: a read-only bind of it sits in the new
    ``/tmp`` and each of its entries is a link into that view, so netlists and
    include files under ``/tmp`` are still found while nothing there can be
    changed.  New files in ``/tmp`` (ngspice's startup ``tmpfile()``) land in
    ``run_dir/.tmp``.
    """
    uid, gid = os.getuid(), os.getgid()
    _check(libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWNET), "unshare(user, mount, network namespaces)")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1\n")
    _write("/proc/self/gid_map", f"{gid} {gid} 1\n")
    _mount(libc, None, "/", _MS_REC | _MS_PRIVATE, "make mounts private")
    if not os.path.isdir("/tmp"):
        return
    priv = os.path.join(run_dir, PRIVATE_TMP)
    os.makedirs(priv, mode=0o700, exist_ok=True)
    view = f".memspice-host-tmp-{os.urandom(4).hex()}"
    os.mkdir(os.path.join(priv, view))
    _mount(libc, "/tmp", os.path.join(priv, view), _MS_BIND | _MS_REC, "bind the real /tmp")
    _read_only(libc, os.path.join(priv, view))
    for name in os.listdir(os.path.join(priv, view)):
        try:
            os.symlink(f"/tmp/{view}/{name}", os.path.join(priv, name))
        except FileExistsError:
            pass
    _mount(libc, priv, "/tmp", _MS_BIND | _MS_REC, "private /tmp")
    # the namespace's root user could otherwise regain capabilities on exec
    try:
        with open("/proc/sys/kernel/cap_last_cap") as fh:
            last = int(fh.read())
    except (OSError, ValueError):
        last = 40
    for cap in range(last + 1):
        libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)


def _landlock(libc, abi: int, writable: str, executables) -> None:
    fs = _fs_rights(abi)
    net = (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0
    scoped = (_SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL) if abi >= 6 else 0
    attr = _RulesetAttr(fs, net, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    _check(ruleset, "landlock_create_ruleset")
    try:

        def allow(path, rights: int) -> None:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                if not os.path.isdir(path):
                    rights &= _FILE_RIGHTS
                rule = _PathBeneath(rights & fs, fd)
                _check(
                    libc.syscall(_SYS_LANDLOCK_ADD_RULE, ruleset, _LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule), 0),
                    f"landlock rule for {path}",
                )
            finally:
                os.close(fd)

        allow("/", FS_READ_FILE | FS_READ_DIR)
        # regular files and folders only: a symbolic link, FIFO, socket or device made in the run folder could
        # lead memspice (which reads the results there) elsewhere or make it wait forever
        inside = fs & ~(FS_EXECUTE | _FS_MAKE_SPECIAL)
        allow(writable, inside)
        private = os.path.join(writable, PRIVATE_TMP)
        if os.path.isdir(private):  # mounted as /tmp: Landlock follows that path, not the one through writable
            allow(private, inside)
        if os.path.exists(os.devnull):
            allow(os.devnull, FS_READ_FILE | FS_WRITE_FILE | FS_TRUNCATE)
        for exe in executables:
            allow(exe, FS_EXECUTE | FS_READ_FILE)
        _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        _check(libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)


def _bpf(exec_fd: int | None, notify: bool) -> list[tuple[int, int, int, int]]:
    """The seccomp program: (code, jt, jf, k) instructions for this machine."""
    arch, _, execve, execveat, sock, ioctl, x32 = _ARCH[_MACHINE]
    blocked = _RET_USER_NOTIF if notify else _RET_ERRNO | errno.EACCES
    deny = _RET_ERRNO | errno.EACCES
    prog: list = []  # entries: (code, true label or None, false label or None, k) or ("label", name)

    def ld(offset):
        prog.append((0x20, None, None, offset))  # BPF_LD | BPF_W | BPF_ABS

    def jeq(k, yes=None, no=None):
        prog.append((0x15, yes, no, k))  # BPF_JMP | BPF_JEQ | BPF_K

    def jge(k, yes=None, no=None):
        prog.append((0x35, yes, no, k))

    def ret(k):
        prog.append((0x06, None, None, k))  # BPF_RET | BPF_K

    def label(name):
        prog.append(("label", name))

    def jset(k, yes=None, no=None):
        prog.append((0x45, yes, no, k))  # BPF_JMP | BPF_JSET | BPF_K

    opens = _OPENS[_MACHINE] if notify else {}
    ld(4)
    jeq(arch, None, "kill")
    ld(0)
    if x32:
        jge(x32, "deny", None)
    jeq(execve, "blocked", None)
    jeq(execveat, "execveat", None)
    jeq(sock, "deny", None)
    for nr in _NOSYS[_MACHINE]:
        jeq(nr, "nosys", None)
    for nr in _REFUSED[_MACHINE]:
        jeq(nr, "eperm", None)
    jeq(ioctl, "ioctl", None)
    for nr in opens:
        jeq(nr, f"open{nr}", None)
    ret(_RET_ALLOW)
    for nr, arg in opens.items():  # report opens for writing (the kernel still decides: see Monitor)
        label(f"open{nr}")
        if arg is not None:
            ld(16 + 8 * arg)
            jset(_O_WRITES, "report", "allow")
        else:
            ret(_RET_USER_NOTIF)
    if opens:
        label("report")
        ret(_RET_USER_NOTIF)
    label("execveat")
    if exec_fd is not None:
        ld(16 + 8 * 4)  # flags, low word
        jeq(_AT_EMPTY_PATH, None, "blocked")
        ld(16)  # dirfd, low word
        jeq(exec_fd, "allow", "blocked")
    label("blocked")
    ret(blocked)
    label("ioctl")
    ld(16 + 8)  # request, low word
    jeq(_TIOCSTI, "deny", None)
    jeq(_TIOCLINUX, "deny", None)
    label("allow")
    ret(_RET_ALLOW)
    label("deny")
    ret(deny)
    label("nosys")
    ret(_RET_ERRNO | errno.ENOSYS)
    label("eperm")
    ret(_RET_ERRNO | errno.EPERM)
    label("kill")
    ret(_RET_KILL_PROCESS)

    where: dict[str, int] = {}
    out: list = []
    for item in prog:
        if item[0] == "label":
            where[item[1]] = len(out)
        else:
            out.append(item)
    code = []
    for i, (op, yes, no, k) in enumerate(out):
        jt = 0 if yes is None else where[yes] - i - 1
        jf = 0 if no is None else where[no] - i - 1
        code.append((op, jt, jf, k))
    return code


def _seccomp(libc, exec_fd: int | None, notify: bool) -> int | None:
    """Install the filter; returns the notification descriptor when ``notify``."""
    code = _bpf(exec_fd, notify)
    insns = (_SockFilter * len(code))(*[_SockFilter(*c) for c in code])
    prog = _SockFprog(len(code), insns)
    _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    nr = _ARCH[_MACHINE][1]
    fd = _check(
        libc.syscall(nr, _SECCOMP_SET_MODE_FILTER, _FLAG_NEW_LISTENER if notify else 0, ctypes.byref(prog)), "seccomp"
    )
    return fd if notify else None


def confine(run_dir, *, executables=(), private_tmp: bool = False, notify_socket=None, exec_fd=None) -> None:
    """Confine the calling process for good: write only beneath ``run_dir``, execute only ``executables``.

    Call it in a worker process, single-threaded (Landlock confines the
    calling thread and the threads and processes it starts later), before
    loading libngspice.  Irreversible: never call it in a process that must
    go on doing other work.

    Parameters
    ----------
    run_dir : path
        The only folder (with everything beneath it) the process may write.
    executables : sequence of path
        Files the process may still execute (the launcher: ngspice and its
        loader).  Default none.
    private_tmp : bool
        Also enter new user, mount and network namespaces with ``/tmp`` inside
        ``run_dir`` (batch ngspice needs it); see :func:`support`.
    notify_socket : socket.socket, optional
        A Unix socket to send the seccomp notification descriptor over
        (receive it with :class:`Monitor`); without it exec attempts just
        fail with ``EACCES``.
    exec_fd : int, optional
        The descriptor number of the one ``execveat(fd, "", ..., AT_EMPTY_PATH)``
        allowed (the launcher's exec of ngspice).

    Raises
    ------
    SandboxError
        The kernel lacks a layer (see :func:`support`) or refused a step.
    """
    abi = landlock_abi()
    if abi < 1:
        raise SandboxError(errno.ENOSYS, "no Landlock: " + "; ".join(support().problems))
    if _threads() != 1:
        raise SandboxError(errno.EBUSY, "confine() must run before the process starts threads (Landlock is per thread)")
    run_dir = os.path.realpath(run_dir)
    libc = _libc()
    if private_tmp:
        _private_tmp(libc, run_dir)
    _landlock(libc, abi, run_dir, [os.path.realpath(e) for e in executables])
    listener = _seccomp(libc, exec_fd, notify_socket is not None)
    if notify_socket is not None and listener is not None:
        socket.send_fds(notify_socket, [b"n"], [listener])
        os.close(listener)


# --- the parent's side -------------------------------------------------------------------------------
class Monitor:
    """Receives what a confined process tried (seccomp user notification): programs it wanted to run, files it opened
    for writing.

    Exec attempts are refused here (``EACCES``) and listed in :attr:`programs`.
    Opens for writing are let through to the kernel, whose Landlock rules
    decide, and listed in :attr:`writes` (absolute paths as the process saw
    them, ``(path, seen_in_namespace)``: False when resolved against its
    working folder, which the kernel reports as memspice sees it), so that a
    refused write can be named in the error.  Use: ``mon = Monitor(sock)`` once the confined
    process sent its descriptor (:func:`confine` with ``notify_socket``),
    then :meth:`close` when it has ended.
    """

    def __init__(self, sock: socket.socket, timeout: float = 60.0):
        import threading

        self.programs: list[str] = []
        self.writes: list[tuple[str, bool]] = []
        self._fd = -1
        previous = sock.gettimeout()
        sock.settimeout(timeout)
        try:
            _, fds, _, _ = socket.recv_fds(sock, 16, 1)
        except OSError:  # also socket.timeout
            fds = []
        finally:
            sock.settimeout(previous)
        if fds:
            self._fd = fds[0]
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._serve, name="memspice-sandbox-monitor", daemon=True)
            self._thread.start()

    @property
    def active(self) -> bool:
        return self._fd >= 0

    def _serve(self) -> None:
        import fcntl
        import select

        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        execs = _ARCH[_MACHINE][2:4]
        while not self._stop.is_set():
            events = poller.poll(100)
            if not events:
                continue
            if not any(ev & select.POLLIN for _, ev in events):
                return  # every confined process has ended
            req = _Notif()
            try:
                fcntl.ioctl(self._fd, _NOTIF_RECV, req)
            except OSError as exc:
                if exc.errno in (errno.ENOENT, errno.EINTR):
                    continue  # the caller died before we answered
                return
            if req.data.nr in execs:
                self.programs.append(_describe_exec(req))
                resp = _NotifResp(req.id, 0, -errno.EACCES, 0)
            else:
                self.writes.append(_describe_open(req))
                resp = _NotifResp(req.id, 0, 0, _NOTIF_FLAG_CONTINUE)
            try:
                fcntl.ioctl(self._fd, _NOTIF_SEND, resp)
            except OSError:
                pass

    def close(self) -> None:
        """Stop listening (call when the confined process has ended)."""
        if self._fd >= 0:
            self._stop.set()
            self._thread.join(5)
            os.close(self._fd)
            self._fd = -1


def _read_string(fd: int, addr: int, limit: int = 4096) -> str:
    data = os.pread(fd, limit, addr) if addr else b""
    return data.split(b"\0", 1)[0].decode("utf-8", "replace")


def _describe_exec(req: _Notif) -> str:
    """``program arg ...`` of an exec attempt, read from the caller's memory."""
    nr, args = req.data.nr, req.data.args
    path_ptr, argv_ptr = (args[0], args[1]) if nr == _ARCH[_MACHINE][2] else (args[1], args[2])
    try:
        fd = os.open(f"/proc/{req.pid}/mem", os.O_RDONLY)
    except OSError:
        return "a program (its name could not be read)"
    try:
        words = []
        if argv_ptr:
            ptrs = os.pread(fd, 8 * 16, argv_ptr)
            for (p,) in struct.iter_unpack("<Q", ptrs[: len(ptrs) // 8 * 8]):
                if not p:
                    break
                words.append(_read_string(fd, p))
        path = _read_string(fd, path_ptr) or (words[0] if words else "?")
        return " ".join([path, *words[1:]])
    except OSError:
        return "a program (its name could not be read)"
    finally:
        os.close(fd)


def _describe_open(req: _Notif) -> tuple[str, bool]:
    """The absolute path an open-for-writing names, and whether it is in the caller's view (not memspice's)."""
    nr, args = req.data.nr, req.data.args
    with_dirfd = nr in (257, 437, 56)  # openat, openat2 (both machines), openat (aarch64)
    dirfd = ctypes.c_int32(args[0] & 0xFFFFFFFF).value if with_dirfd else -100
    path_ptr = args[1] if with_dirfd else args[0]
    try:
        fd = os.open(f"/proc/{req.pid}/mem", os.O_RDONLY)
        try:
            path = _read_string(fd, path_ptr)
        finally:
            os.close(fd)
        if path.startswith("/"):
            return os.path.normpath(path), True
        base = os.readlink(f"/proc/{req.pid}/cwd" if dirfd == -100 else f"/proc/{req.pid}/fd/{dirfd}")
        return os.path.normpath(os.path.join(base, path)), False
    except OSError:
        return "?", False


def refused_writes(writes, run_dir, private_tmp: bool) -> list[str]:
    """The paths in ``writes`` (a :class:`Monitor`'s) the sandbox of ``run_dir`` refused, in order, once each.

    Mirrors the Landlock rules: allowed are the run's folder (after following
    links, as the kernel does), ``/dev/null``, and with ``private_tmp`` new
    entries of the private ``/tmp`` (its links into the real ``/tmp`` are read-only).
    """
    import re

    run = os.path.realpath(run_dir)
    out: list[str] = []
    for path, in_namespace in writes:
        p = path
        if private_tmp and in_namespace and (p == "/tmp" or p.startswith("/tmp/")):
            p = os.path.join(run, PRIVATE_TMP, os.path.relpath(p, "/tmp"))
        real = os.path.realpath(p)
        inside = real == run or real.startswith(run + os.sep) or real == os.devnull
        shown = re.sub(_HOST_VIEW, "/tmp/", path)  # the private /tmp's read-only view of the real /tmp
        if not inside and shown not in out:
            out.append(shown)
    return out


def executables_for(program) -> list[str]:
    """What the launcher must be allowed to execute to start ``program``: itself and its ELF loader.

    Raises :class:`SandboxError` when ``program`` is not an ELF executable
    (a shell script would need its interpreter and every command it runs).
    """
    from ..core.elf import NotElf, interpreter

    path = os.path.realpath(program)
    try:
        interp = interpreter(path)
    except (OSError, NotElf) as exc:
        raise SandboxError(errno.ENOEXEC, f"{program} is not a program the sandbox can confine ({exc})") from None
    return [path] + ([os.path.realpath(interp)] if interp else [])


def launcher_command(run_dir, argv, notify_fd: int | None) -> list[str]:
    """The command that confines itself in ``run_dir`` and then executes ``argv`` (batch ngspice)."""
    exe = executables_for(argv[0])
    notify = "-" if notify_fd is None else str(notify_fd)
    head = [sys.executable, "-I", "-S", os.path.abspath(__file__), "exec", str(run_dir), notify, str(os.getpid())]
    head.append(str(len(exe)))
    return head + exe + ["--", *argv]


def tidy(run_dir) -> None:
    """Remove the private /tmp's links into the real /tmp from a run folder that is kept (they dangle now)."""
    priv = os.path.join(os.fspath(run_dir), PRIVATE_TMP)
    try:
        names = os.listdir(priv)
    except OSError:
        return
    for name in names:
        path = os.path.join(priv, name)
        try:
            if os.path.islink(path) and os.readlink(path).startswith("/tmp/.memspice-host-tmp-"):
                os.unlink(path)
            elif name.startswith(".memspice-host-tmp-"):
                os.rmdir(path)
        except OSError:
            pass
    try:
        os.rmdir(priv)  # only if ngspice left nothing of its own there
    except OSError:
        pass


def setup_failure(output: str) -> str | None:
    """The launcher's reason when it exited with :data:`SETUP_FAILED`, else None."""
    for line in output.splitlines():
        if line.startswith(_SETUP_TAG):
            return line[len(_SETUP_TAG) :].strip()
    return None


# --- script entry points ---------------------------------------------------------------------------
def die_with_parent(parent: int) -> None:
    """Ask the kernel to SIGKILL this process when ``parent`` (pid) ends, and end now if it has already.

    A sandboxed ngspice or worker must not outlive memspice: when the Python process is killed
    (SIGKILL, the out-of-memory killer) nothing else stops an endless netlist.  The setting survives
    ``execve`` (ngspice is not set-user-ID).  Linux ties it to the thread that started the process; memspice
    starts and waits for each one in the same thread.
    """
    _check(_libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")
    if os.getppid() != parent:  # it ended before the request: the kernel will not send the signal now
        os._exit(SETUP_FAILED)


def _exec_main(words: list[str]) -> None:
    """``RUN_DIR NOTIFY_FD|- PARENT_PID N EXE_1 .. EXE_N -- PROGRAM ARGS...`` (see :func:`launcher_command`)."""
    run_dir, notify, parent, n = words[0], words[1], int(words[2]), int(words[3])
    exe, argv = words[4 : 4 + n], words[5 + n :]
    sock = None if notify == "-" else socket.socket(fileno=int(notify))
    try:
        die_with_parent(parent)
        fd = os.open(exe[0], os.O_RDONLY | os.O_CLOEXEC)
        if fd != _EXEC_FD:
            os.dup2(fd, _EXEC_FD, inheritable=False)
            os.close(fd)
        confine(run_dir, executables=exe, private_tmp=True, notify_socket=sock, exec_fd=_EXEC_FD)
    except (OSError, SandboxError) as exc:
        print(f"{_SETUP_TAG} {exc}", file=sys.stderr, flush=True)
        os._exit(SETUP_FAILED)
    if sock is not None:
        sock.close()
    env = [f"{k}={v}".encode() for k, v in os.environ.items()]
    _execveat(_EXEC_FD, argv, env)


def _execveat(fd: int, argv: list[str], env: list[bytes]) -> None:
    libc = _libc()
    c_argv = (ctypes.c_char_p * (len(argv) + 1))(*[os.fsencode(a) for a in argv], None)
    c_env = (ctypes.c_char_p * (len(env) + 1))(*env, None)
    nr = _ARCH[_MACHINE][3]
    libc.syscall(nr, fd, b"", c_argv, c_env, _AT_EMPTY_PATH)
    err = ctypes.get_errno()
    print(f"{_SETUP_TAG} could not start {argv[0]}: {os.strerror(err)}", file=sys.stderr, flush=True)
    os._exit(SETUP_FAILED)


def _probe_main(folder: str) -> None:
    """Try the private /tmp in a throw-away folder; exit 0 when the kernel allows it."""
    try:
        _private_tmp(_libc(), folder)
        with open("/tmp/memspice-probe", "w") as fh:
            fh.write("x")
        if not os.path.exists(os.path.join(folder, PRIVATE_TMP, "memspice-probe")):
            raise SandboxError(errno.EIO, "the private /tmp did not land in the run's folder")
    except (OSError, SandboxError) as exc:
        print(f"{_SETUP_TAG} {exc}", file=sys.stderr, flush=True)
        os._exit(SETUP_FAILED)
    os._exit(0)


def _worker_main(cfg: dict) -> None:
    """A worker (see :class:`Worker`): confine (unless trusted), then hand the connection to ``module.serve``."""
    sock = socket.socket(fileno=cfg["fd"])
    try:
        die_with_parent(cfg.get("parent", os.getppid()))  # a parent of an older memspice sends none
        if cfg.get("confine"):
            confine(cfg["run_dir"], notify_socket=sock)
        else:
            socket.send_fds(sock, [b"n"], [])
    except (OSError, SandboxError) as exc:
        print(f"{_SETUP_TAG} {exc}", file=sys.stderr, flush=True)
        os._exit(SETUP_FAILED)
    sys.dont_write_bytecode = True  # nothing to write outside the run's folder
    sys.path[:] = cfg["path"]
    from multiprocessing.connection import Connection

    conn = _wire().WorkerEnd(Connection(sock.detach()))
    module = __import__(cfg["module"], fromlist=["serve"])
    module.serve(conn)


def _wire():
    """:mod:`memspice.spice.wire`, loaded by path: this file also runs as a script, outside its package."""
    import importlib
    import importlib.util

    if __package__:
        return importlib.import_module(__package__ + ".wire")
    name = "_memspice_sandbox_wire"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, os.path.join(os.path.dirname(__file__), "wire.py"))
    if spec is None or spec.loader is None:
        raise ImportError("memspice's wire.py is missing beside sandbox.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class Worker:
    """A fresh Python process in ``run_dir``, confined before it imports anything but the standard library.

    The way for other modules (the shared-mode driver, a co-simulation that
    loads libngspice) to run code under the sandbox: the worker is started as
    ``python -I sandbox.py worker`` (it never re-imports the caller's script),
    confines itself single-threaded (:func:`confine`), then imports
    ``module`` and calls ``module.serve(conn)``; ``conn`` (a
    :class:`memspice.spice.wire.WorkerEnd`) receives what the parent sends on
    :attr:`conn` and sends back data-only messages (:mod:`memspice.spice.wire`:
    numbers, text, containers, numeric arrays, exceptions), never pickles: code
    that took over a confined worker must not run code in the parent.

    Parameters
    ----------
    run_dir : path
        The worker's working folder, the only one it may write.
    module : str
        Importable module with a ``serve(conn)`` function.
    confine : bool
        False for trusted work (``allow_shell=True``): the same worker, unconfined.
    path : list of str, optional
        ``sys.path`` for the worker (default: the caller's, made absolute).
    env : dict, optional
        Environment variables added to the caller's for the worker (e.g. ``NUMBA_CACHE_DIR`` inside
        ``run_dir``).
    exception_modules : iterable of str
        Modules besides :data:`memspice.spice.wire.EXCEPTION_MODULES` whose
        exception classes the worker's error messages may name (others become
        :class:`RuntimeError`).

    Notes
    -----
    After the worker has ended, :meth:`close` returns what it tried that the
    sandbox refused: ``(programs, writes)``.  :attr:`output` is its
    stdout and stderr (Python tracebacks, the launcher's messages).
    """

    def __init__(
        self, run_dir, module: str, confine: bool = True, path=None, env: dict | None = None, exception_modules=()
    ):
        import subprocess
        import threading
        from multiprocessing.connection import Connection

        self.run_dir = os.fspath(run_dir)
        self.confined = confine
        parent, child = socket.socketpair()
        fd = child.detach()
        config = {
            "fd": fd,
            "confine": confine,
            "run_dir": self.run_dir,
            "path": list(path) if path is not None else [os.path.abspath(p) if p else os.getcwd() for p in sys.path],
            "module": module,
            "parent": os.getpid(),
        }
        try:
            self.proc = subprocess.Popen(
                worker_command(config),
                cwd=self.run_dir,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(fd,),
                start_new_session=True,
                env=None if env is None else {**os.environ, **env},
            )
        finally:
            os.close(fd)
        from .log import OutputCapture

        self._chunks = OutputCapture()  # bounded: a worker printing without end must not fill this process
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            self.monitor = Monitor(parent)
        except BaseException:
            self.kill()
            raise
        #: :class:`memspice.spice.wire.ParentEnd`: ``send`` pickles, ``recv`` reads data-only messages
        wire = _wire()
        self.conn = wire.ParentEnd(
            Connection(parent.detach()), exception_modules=wire.EXCEPTION_MODULES | frozenset(exception_modules)
        )

    def _read(self) -> None:
        stream = self.proc.stdout
        while stream is not None:
            data = stream.read1(65536)  # type: ignore[attr-defined]  # a BufferedReader
            if not data:
                return
            self._chunks.add(data)

    def kill(self) -> None:
        """Stop the worker and everything it started (its process group: a confined worker cannot leave it)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    @property
    def output(self) -> str:
        return self._chunks.text()

    def setup_failure(self) -> str | None:
        """Why the worker could not confine itself (it ran nothing), or None."""
        return setup_failure(self.output) if self.proc.returncode == SETUP_FAILED else None

    def close(self, wait: float = 5.0) -> tuple[list[str], list[str]]:
        """Wait up to ``wait`` s for the worker to end (then kill it); returns the refused ``(programs, writes)``."""
        import subprocess

        try:
            self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            pass
        self.kill()  # also what it started and left behind
        self.monitor.close()
        self.conn.close()
        self._reader.join(5)
        programs = list(self.monitor.programs)
        writes = refused_writes(self.monitor.writes, self.run_dir, private_tmp=False)
        return programs, writes


def worker_command(config: dict) -> list[str]:
    """The command that starts a :class:`Worker`."""
    import json

    return [sys.executable, "-I", os.path.abspath(__file__), "worker", json.dumps(config)]


if __name__ == "__main__":
    _cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if _cmd == "exec":
        _exec_main(sys.argv[2:])
    elif _cmd == "worker":
        import json

        _worker_main(json.loads(sys.argv[2]))
    elif _cmd == "probe":
        _probe_main(sys.argv[2])
    else:
        print("usage: sandbox.py exec CONFIG -- PROGRAM ARGS... | worker CONFIG | probe FOLDER", file=sys.stderr)
        sys.exit(2)

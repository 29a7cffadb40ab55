"""What a worker running a repository's Python rules may do: read its inputs, compute, reply.

Repository Python rules (any policy directory other than the built-in pack) are code
from the repository being checked: a pull request can change them.  runner.py runs
them in workers of their own, apart from the process that writes the report and from
the workers that evaluate the built-in pack and the Rego policies, and each such
worker calls `lock_down` once its inputs are loaded and before any rule file is
imported.  From then on, whatever the rule does, the operating system refuses:

* **environment**: `os.environ`, `posix.environ` and the C `environ` are emptied, and
  the process's original environment block (what `/proc/<pid>/environ` shows) is
  overwritten with zeros;
* **network**: a new, empty network namespace (`unshare(CLONE_NEWNET)`, or with
  `CLONE_NEWUSER` where an unprivileged process may; an IPC namespace with it), no
  TCP connect or bind (Landlock, ABI 4+), no sockets at all (seccomp);
* **processes**: no `execve`, no `clone`/`fork`/`vfork` (so no threads either), no
  signals to, limits or scheduling of any other process, no `ptrace`, no System V or
  POSIX message IPC (seccomp; Landlock scopes signals, ABI 6+; `RLIMIT_NPROC` 0 where
  the kernel enforces it, which it does not for root);
* **files**: reading only below the repository root (but not its `.git`), the policy
  directories, and Python's installation and loaded libraries; nothing is executed,
  written, created, renamed or deleted anywhere (Landlock; seccomp refuses opening for
  writing and every call that changes the file system; `RLIMIT_FSIZE` caps what the
  worker's stderr can grow by);
* **resources**: `RLIMIT_CORE` 0, `RLIMIT_NOFILE` small, every inherited file
  descriptor but the worker's own closed, stdin from `/dev/null`; the runner's
  address-space limit and deadline as for every worker.

What the platform cannot do is reported as notes (`lock_down` returns them); the
rest still applies.  The PEP 578 audit hook (engine/guard.py) stays on as an extra
layer: it turns most attempts into a `PermissionError` inside the rule, which makes
them a `PE-RULE-ERROR`; it is not relied on.

The main process never trusts what such a worker sends: `encode_findings` and
`decode_findings` carry findings as JSON (never pickle, whose loading runs code), and
the decoder accepts only findings of the worker's own rules.
"""

from __future__ import annotations

import contextlib
import errno as errno_names
import json
import os
import platform
import re
import signal
import stat
import struct
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pe_policy.findings import Finding, Location, Severity

STDERR_LIMIT = 1 << 20  # bytes a locked-down worker's stderr (rules' prints) may grow by
NOFILE_LIMIT = 64  # descriptors a locked-down worker may hold

_locked = False


def locked_down() -> bool:
    """Whether this process is a worker `lock_down` restricted (repository rules may run)."""
    return _locked


# ----------------------------------------------------------------------------- notes

# What a note says, by its code: the worker sends codes, the main process prints these.
NOTE_TEXT = {
    "netns": "no network namespace (network access is still refused by the system call "
             "filter where there is one)",
    "landlock": "no Landlock file-system restrictions (the rules could read any file the "
                "user can)",
    "seccomp": "no system call filter (processes, threads and sockets are refused only by "
               "the audit hook, the network namespace and RLIMIT_NPROC)",
    "environ": "its original environment block could not be cleared",
}


def _why(exc: BaseException | int) -> str:
    code = exc if isinstance(exc, int) else getattr(exc, "errno", None)
    if isinstance(code, int) and code:
        return f"{errno_names.errorcode.get(code, str(code))}: {os.strerror(code)}"
    return str(exc)


# ----------------------------------------------------------------------------- libc

def _libc() -> Any:
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _syscall(libc: Any, number: int, *args: Any) -> int:
    import ctypes

    libc.syscall.restype = ctypes.c_long
    result = int(libc.syscall(ctypes.c_long(number), *args))
    if result < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return result


# ----------------------------------------------------------------------------- environment

def _scrub_environment(libc: Any) -> str | None:
    """Empty every copy of the environment this process holds; None, or why a copy stays."""
    import ctypes
    import posix

    offset = bytes.__basicsize__ - 1  # where a bytes object's characters start
    copies: list[Any] = [*os.environ._data.values(), *posix.environ.values()]  # type: ignore[attr-defined]
    for value in copies:  # freed, their characters would stay in memory
        if type(value) is bytes and len(value) > 1:  # not the shared one-byte objects
            ctypes.memset(id(value) + offset, 0, len(value))
    os.environ.clear()
    posix.environ.clear()
    del copies
    with contextlib.suppress(AttributeError):  # a libc without clearenv: environ is empty anyway
        libc.clearenv()
    try:  # the block the kernel shows as /proc/<pid>/environ: fields 50-51 of stat
        with open("/proc/self/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[47]), int(fields[48])
        if 0 < start < end:
            ctypes.memset(start, 0, end - start)
    except (OSError, ValueError, IndexError) as exc:
        return _why(exc)
    return None


# ----------------------------------------------------------------------------- network

CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


def _network_namespace(libc: Any) -> str | None:
    """A new network namespace (only a loopback device, down), and a new IPC namespace where
    it can be had too (no System V IPC or POSIX message queue of anyone else); None, or why
    there is no network namespace."""
    import ctypes

    reasons = []
    for flags in (CLONE_NEWNET | CLONE_NEWIPC, CLONE_NEWNET,
                  CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWIPC, CLONE_NEWUSER | CLONE_NEWNET):
        if libc.unshare(ctypes.c_int(flags)) == 0:
            return None
        reasons.append(_why(ctypes.get_errno()))
    return "unshare: " + ", ".join(dict.fromkeys(reasons))


# ----------------------------------------------------------------------------- Landlock

_LANDLOCK_CREATE_RULESET = 444  # the same number on every architecture
_LANDLOCK_ADD_RULE = 445
_LANDLOCK_RESTRICT_SELF = 446
_READ_FILE = 1 << 2
_READ_DIR = 1 << 3
PR_SET_NO_NEW_PRIVS = 38


def _landlock(libc: Any, readable: Iterable[str]) -> str | None:
    """Allow reading below `readable` and nothing else; None, or why not."""
    import ctypes

    try:
        abi = _syscall(libc, _LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    except OSError as exc:
        return f"landlock_create_ruleset: {_why(exc)}"
    handled_fs = (1 << 13) - 1  # ABI 1: execute, write, read, directories, make and remove
    for version, bit in ((2, 13), (3, 14), (5, 15)):  # refer, truncate, ioctl on devices
        if abi >= version:
            handled_fs |= 1 << bit
    handled_net = 0b11 if abi >= 4 else 0  # TCP bind and connect
    scoped = 0b11 if abi >= 6 else 0  # abstract UNIX sockets and signals outside the domain
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    attr = ctypes.create_string_buffer(struct.pack("=QQQ", handled_fs, handled_net, scoped), 24)
    try:
        ruleset = _syscall(libc, _LANDLOCK_CREATE_RULESET, attr, ctypes.c_size_t(size),
                           ctypes.c_uint32(0))
    except OSError as exc:
        return f"landlock_create_ruleset: {_why(exc)}"
    try:
        for path in readable:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # gone: nothing to allow
            try:
                is_dir = stat.S_ISDIR(os.fstat(fd).st_mode)
                allowed = _READ_FILE | (_READ_DIR if is_dir else 0)
                rule = ctypes.create_string_buffer(struct.pack("=Qi", allowed, fd), 12)
                _syscall(libc, _LANDLOCK_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(1), rule,
                         ctypes.c_uint32(0))
            except OSError:
                continue  # a path Landlock cannot hold a rule for: it stays unreadable
            finally:
                os.close(fd)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return f"prctl(PR_SET_NO_NEW_PRIVS): {_why(ctypes.get_errno())}"
        try:
            _syscall(libc, _LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0))
        except OSError as exc:
            return f"landlock_restrict_self: {_why(exc)}"
    finally:
        os.close(ruleset)
    return None


# ----------------------------------------------------------------------------- seccomp

# Per architecture (`platform.machine()`): the audit arch, and the system call numbers.
# "deny": refused with EPERM; "nosys": ENOSYS (a caller falls back to a call filtered here);
# "write_open": (number, argument holding the flags) refused when opening for writing;
# "own_pid": (number, argument holding a pid) refused unless the pid is this process's;
# "own_limits": (number, argument holding a pid) refused unless 0 or this process's.
_X86_64: dict[str, Any] = {
    "arch": 0xC000003E,
    "deny": (
        41, 53, 42, 49, 50, 43, 288,  # socket socketpair connect bind listen accept accept4
        56, 435, 57, 58, 59, 322,  # clone clone3 fork vfork execve execveat
        424, 434, 438, 101, 310, 311, 312,  # pidfd_send_signal/open/getfd ptrace process_vm_* kcmp
        85, 87, 263, 82, 264, 316, 83, 258, 84,  # creat unlink(at) rename(at/2) mkdir(at) rmdir
        86, 265, 88, 266, 90, 91, 268, 452,  # link(at) symlink(at) chmod fchmod fchmodat(2)
        92, 93, 94, 260, 76, 77, 133, 259,  # chown fchown lchown fchownat truncate ftruncate mknod(at)
        272, 308, 165, 166, 155, 161,  # unshare setns mount umount2 pivot_root chroot
        321, 298, 250, 248, 249,  # bpf perf_event_open keyctl add_key request_key
        425, 426, 427, 323, 304, 303, 300,  # io_uring_* userfaultfd *_handle_at fanotify_init
        429, 428, 430, 432, 433, 442,  # move_mount open_tree fsopen fsmount fspick mount_setattr
        29, 30, 31, 68, 69, 70, 71, 64, 65, 66, 220,  # System V shared memory, messages, semaphores
        240, 241, 242, 243, 244, 245,  # POSIX message queues
        141, 251, 203, 144, 142, 314,  # setpriority ioprio_set sched_set{affinity,scheduler,param,attr}
        256, 279, 440,  # migrate_pages move_pages process_madvise
    ),
    "nosys": (437,),  # openat2: its flags are in a structure the filter cannot read
    "write_open": ((2, 1), (257, 2)),  # open, openat
    "own_pid": ((62, 0), (200, 0), (234, 0), (129, 0), (297, 0)),  # kill tkill tgkill rt_*sigqueueinfo
    "own_limits": ((302, 0),),  # prlimit64
}
_AARCH64: dict[str, Any] = {  # the generic table (asm-generic/unistd.h)
    "arch": 0xC00000B7,
    "deny": (
        198, 199, 203, 200, 201, 202, 242,  # socket socketpair connect bind listen accept accept4
        220, 435, 221, 281,  # clone clone3 execve execveat
        424, 434, 438, 117, 270, 271, 272,  # pidfd_* ptrace process_vm_* kcmp
        35, 38, 276, 34, 37, 36, 52, 53, 452,  # unlinkat renameat(2) mkdirat linkat symlinkat fchmod(at/2)
        55, 54, 45, 46, 33,  # fchown fchownat truncate ftruncate mknodat
        97, 268, 40, 39, 41, 51,  # unshare setns mount umount2 pivot_root chroot
        280, 241, 219, 217, 218,  # bpf perf_event_open keyctl add_key request_key
        425, 426, 427, 282, 265, 264, 262,  # io_uring_* userfaultfd *_handle_at fanotify_init
        429, 428, 430, 432, 433, 442,  # move_mount open_tree fsopen fsmount fspick mount_setattr
        194, 196, 195, 186, 189, 188, 187, 190, 193, 191, 192,  # System V IPC
        180, 181, 182, 183, 184, 185,  # POSIX message queues
        140, 30, 122, 119, 118, 274,  # setpriority ioprio_set sched_set*
        238, 239, 440,  # migrate_pages move_pages process_madvise
    ),
    "nosys": (437,),
    "write_open": ((56, 2),),  # openat
    "own_pid": ((129, 0), (130, 0), (131, 0), (138, 0), (240, 0)),
    "own_limits": ((261, 0),),
}
_SECCOMP_TABLES = {"x86_64": _X86_64, "amd64": _X86_64, "aarch64": _AARCH64, "arm64": _AARCH64}
_WRITE_FLAGS = 0o1 | 0o2 | 0o100 | 0o1000 | 0o2000  # O_WRONLY O_RDWR O_CREAT O_TRUNC O_APPEND

_LD_W_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_RET_ALLOW = 0x7FFF0000
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2


def seccomp_program(table: Mapping[str, Any], pid: int) -> list[tuple[int, int, int, int]]:
    """The classic BPF filter for `table`: (code, jump if true, jump if false, k) each."""
    eperm = _RET_ERRNO | errno_names.EPERM
    nr, arch = 0, 4  # offsets in struct seccomp_data

    def arg(index: int) -> int:  # the low 32 bits of argument `index` (little-endian)
        return 16 + 8 * index

    program = [
        (_LD_W_ABS, 0, 0, arch),
        (_JEQ, 1, 0, table["arch"]),
        (_RET, 0, 0, _RET_KILL_PROCESS),  # another ABI (i386 calls from x86_64): no way round
        (_LD_W_ABS, 0, 0, nr),
    ]
    if table["arch"] == _X86_64["arch"]:
        program += [(_JGE, 0, 1, 0x40000000), (_RET, 0, 0, eperm)]  # x32 calls
    for number in table["deny"]:
        program += [(_JEQ, 0, 1, number), (_RET, 0, 0, eperm)]
    for number in table["nosys"]:
        program += [(_JEQ, 0, 1, number), (_RET, 0, 0, _RET_ERRNO | errno_names.ENOSYS)]
    for number, index in table["write_open"]:
        program += [(_JEQ, 0, 4, number), (_LD_W_ABS, 0, 0, arg(index)),
                    (_JSET, 0, 1, _WRITE_FLAGS), (_RET, 0, 0, eperm), (_LD_W_ABS, 0, 0, nr)]
    for number, index in table["own_pid"]:
        program += [(_JEQ, 0, 4, number), (_LD_W_ABS, 0, 0, arg(index)),
                    (_JEQ, 1, 0, pid), (_RET, 0, 0, eperm), (_LD_W_ABS, 0, 0, nr)]
    for number, index in table["own_limits"]:
        program += [(_JEQ, 0, 5, number), (_LD_W_ABS, 0, 0, arg(index)), (_JEQ, 2, 0, 0),
                    (_JEQ, 1, 0, pid), (_RET, 0, 0, eperm), (_LD_W_ABS, 0, 0, nr)]
    program.append((_RET, 0, 0, _RET_ALLOW))
    return program


def _seccomp(libc: Any) -> str | None:
    """Install the system call filter; None, or why not."""
    import ctypes

    machine = platform.machine().lower()
    table = _SECCOMP_TABLES.get(machine)
    if table is None or sys.byteorder != "little":
        return f"no filter is written for {machine or 'this machine'}"
    program = seccomp_program(table, os.getpid())
    filters = ctypes.create_string_buffer(
        b"".join(struct.pack("=HBBI", *insn) for insn in program), 8 * len(program))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(program), ctypes.addressof(filters))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return f"prctl(PR_SET_NO_NEW_PRIVS): {_why(ctypes.get_errno())}"
    if libc.prctl(ctypes.c_int(PR_SET_SECCOMP), ctypes.c_ulong(SECCOMP_MODE_FILTER),
                  ctypes.c_ulong(ctypes.addressof(fprog)), ctypes.c_ulong(0),
                  ctypes.c_ulong(0)) != 0:
        return f"prctl(PR_SET_SECCOMP): {_why(ctypes.get_errno())}"
    return None


# ----------------------------------------------------------------------------- the lockdown

def _close_descriptors(keep: Iterable[int]) -> None:
    """Close every descriptor but 0-2 and `keep`: the main process's files and pipes are
    not the worker's business."""
    import resource

    kept = {0, 1, 2, *keep}
    try:
        open_fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc: every number up to the limit
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        open_fds = list(range(3, 4096 if soft in (resource.RLIM_INFINITY, -1) else min(soft, 1 << 16)))
    for fd in open_fds:
        if fd not in kept:
            with contextlib.suppress(OSError):
                os.close(fd)


def _set_limit(which: int, value: int) -> None:
    import resource

    with contextlib.suppress(ValueError, OSError):
        _soft, hard = resource.getrlimit(which)
        limit = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (limit, limit))


def _library_directories() -> set[str]:
    """Where the shared libraries this process has loaded live (an extension module imported
    later may need one of their neighbours)."""
    found: set[str] = set()
    with contextlib.suppress(OSError), open("/proc/self/maps", encoding="utf-8",
                                            errors="replace") as fh:
        for line in fh:
            parts = line.split(maxsplit=5)
            if len(parts) == 6 and parts[5].startswith("/") and ".so" in parts[5]:
                found.add(os.path.dirname(parts[5].strip()))
    return found


def python_directories() -> set[str]:
    """Python's installation, its packages' directories, and pe-policy's own package.

    Only the `sys.path` entries inside the installation or named for packages: another is
    often the current directory (`python -m`), which may be anything.
    """
    import sysconfig

    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                              sys.base_exec_prefix)}
    found = set(prefixes) | {str(Path(__file__).resolve().parent)}
    for scheme_path in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            found.add(sysconfig.get_paths()[scheme_path])
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else ""
        if real and os.path.isdir(real) and (
                any(real.startswith(p.rstrip(os.sep) + os.sep) for p in prefixes)
                or os.path.basename(real) in ("site-packages", "dist-packages")):
            found.add(real)
    return found


def readable_paths(repo_root: Path | None, policy_dirs: Iterable[Path],
                   extra: Iterable[str] = ()) -> list[str]:
    """What a locked-down worker may read: the repository (its entries, all but `.git`),
    the policy directories, Python, and the loaded libraries' directories.

    A directory that holds the repository root is left out (a `sys.path` entry of the
    current directory, say): it would open `.git` again.
    """
    root = os.path.realpath(repo_root) if repo_root is not None else None
    paths: set[str] = set()
    for entry in (*python_directories(), *_library_directories(), *extra):
        real = os.path.realpath(entry)
        if real == os.sep or (root is not None and (root == real or root.startswith(
                real.rstrip(os.sep) + os.sep))):
            continue
        paths.add(real)
    if root is not None and root != os.sep:
        with contextlib.suppress(OSError):
            paths.update(os.path.join(root, name) for name in os.listdir(root) if name != ".git")
    for policy_dir in policy_dirs:  # the root itself, or above it: its entries are there already
        real = os.path.realpath(policy_dir)
        if root is None or not (root == real or root.startswith(real.rstrip(os.sep) + os.sep)):
            paths.add(real)
    return sorted(paths)


def lock_down(readable: Sequence[str], keep_fds: Iterable[int] = ()) -> list[tuple[str, str]]:
    """Restrict this process for good (see the module docstring); the notes of what the
    platform could not enforce, as (code, detail).

    Called once, in a worker forked to run repository Python rules, after its inputs are
    loaded and before any rule file is imported.  Irreversible.
    """
    import resource

    global _locked
    keep = tuple(keep_fds)
    linux = sys.platform.startswith("linux")  # namespaces, Landlock and seccomp are Linux's
    notes: list[tuple[str, str]] = []

    def layer(code: str, apply: Any) -> None:
        why = apply(libc) if linux else f"not on {sys.platform}"
        if why is not None:
            notes.append((code, why))

    libc = _libc()
    why = _scrub_environment(libc)
    if why is not None:
        notes.append(("environ", why))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    _close_descriptors(keep)
    sys.dont_write_bytecode = True
    layer("netns", _network_namespace)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, never kills
    _set_limit(resource.RLIMIT_CORE, 0)
    _set_limit(resource.RLIMIT_FSIZE, STDERR_LIMIT)
    _set_limit(resource.RLIMIT_NPROC, 0)  # not enforced for root: the filter refuses clone
    layer("landlock", lambda libc: _landlock(libc, readable))
    _set_limit(resource.RLIMIT_NOFILE, max(NOFILE_LIMIT, max(keep, default=2) + 16))
    layer("seccomp", _seccomp)
    _locked = True
    return notes


# ----------------------------------------------------------------------------- its output

# C0 and C1 controls but tab and newline, DEL, and the bidirectional overrides and isolates
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
OUTPUT_PREFIX = "pe-policy: a repository rule printed: "


def quoted_output(text: str) -> str:
    """What a locked-down worker's rules printed, as it is passed on to stderr: each line
    behind OUTPUT_PREFIX (so none is a CI workflow command, which starts a line with `::`),
    control characters escaped, `##[` broken up."""
    def escape(match: re.Match[str]) -> str:
        code = ord(match.group(0))
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    lines = _UNSAFE.sub(escape, text).replace("##[", "#\\x23[").splitlines()
    return "".join(f"{OUTPUT_PREFIX}{line}\n" for line in lines)


# ----------------------------------------------------------------------------- findings as JSON

def encode_findings(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """Findings as JSON values (what a locked-down worker sends)."""
    out: list[dict[str, Any]] = []
    for f in findings:
        loc = f.location
        out.append({
            "rule_id": f.rule_id, "severity": f.severity.value, "message": f.message,
            "location": [loc.path, loc.line, loc.column, loc.end_line, loc.end_column],
            "kind": f.kind, "json_path": list(f.json_path), "fingerprint": f.fingerprint,
            "properties": json.loads(json.dumps(dict(f.properties), default=str)),
        })
    return out


class MalformedMessage(ValueError):
    """What a locked-down worker sent is not what its protocol allows."""


def _expect(value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    """`value` if it is a `kind` (a bool is no int here), else MalformedMessage."""
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise MalformedMessage(f"{what}: {type(value).__name__}")
    return value


def _optional_int(value: Any, what: str) -> int | None:
    return None if value is None else _expect(value, int, what)


def decode_findings(values: Any, rule_ids: frozenset[str], error_id: str) -> list[Finding]:
    """Findings from JSON a locked-down worker sent, each checked: only findings of its own
    rules (`rule_ids`), or `error_id` findings naming one of them; raises MalformedMessage."""
    out: list[Finding] = []
    for value in _expect(values, list, "findings"):
        _expect(value, dict, "finding")
        rule_id = _expect(value.get("rule_id"), str, "rule_id")
        properties = _expect(value.get("properties", {}), dict, "properties")
        if rule_id == error_id:
            if properties.get("failed_rule") not in rule_ids:
                raise MalformedMessage(f"an error for a rule it does not run: "
                                       f"{properties.get('failed_rule')!r}")
        elif rule_id not in rule_ids:
            raise MalformedMessage(f"a finding of a rule it does not run: {rule_id!r}")
        location = _expect(value.get("location"), list, "location")
        if len(location) != 5:
            raise MalformedMessage("location")
        path = _expect(location[0], str, "location path")
        line = _expect(location[1], int, "location line")
        json_path = tuple(_expect(p, (str, int), "json_path")
                          for p in _expect(value.get("json_path", []), list, "json_path"))
        try:
            severity = Severity.parse(_expect(value.get("severity"), str, "severity"))
        except ValueError as exc:
            raise MalformedMessage(str(exc)) from None
        out.append(Finding(
            rule_id=rule_id, severity=severity,
            message=_expect(value.get("message"), str, "message"),
            location=Location(path, line, *(_optional_int(v, "location") for v in location[2:])),
            kind=_expect(value.get("kind", ""), str, "kind"), json_path=json_path,
            fingerprint=_expect(value.get("fingerprint", ""), str, "fingerprint"),
            properties=properties,
        ))
    return out


__all__ = [
    "NOTE_TEXT",
    "MalformedMessage",
    "decode_findings",
    "encode_findings",
    "lock_down",
    "locked_down",
    "quoted_output",
    "readable_paths",
    "seccomp_program",
]

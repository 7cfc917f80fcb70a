"""The oracle's grader side: reach a student's objects in their running kernel by value.

`Oracle` opens its own shell socket to the kernel (tcp or ipc, from the connection info)
and sends narrow requests, each one user expression evaluated by `oracle_kernel.py`,
whose source it sends in at start: look up a name, call, get or set an attribute, swap
globals, read defaults, iterate. Arrays and plain values travel by value (.npy with
`allow_pickle=False`, JSON), every other kernel object comes back as a `Proxy`; nothing
the kernel sends is evaluated or unpickled, and an answer larger than `limit` is refused
by the socket itself. The checks run here and only ever see values: whatever the student's
code does to the kernel side changes what it appears to return, never the verdict.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import io
import json
import os
import time
import warnings
import weakref
from pathlib import Path

import numpy as np
import zmq
from jupyter_client.session import Session

from nnlab.checks._student import KernelFunction, ReferenceCalled, RemoteTimeout, is_remote

KERNEL_SOURCE = Path(__file__).with_name("oracle_kernel.py")
STUB_CHECKS = Path(__file__).with_name("kernel_checks.py")
LIMIT = 16 * 1024 * 1024  # bytes one answer may carry
MAX_NODES = 100_000  # values in one answer (JSON grows ~25-fold in memory when decoded)
MAX_FRAMES = 16
PLAIN = (type(None), bool, int, float, str)
NUMERIC = "biufc"

BOOT = """
import importlib.util, sys, types
_m = types.ModuleType('_nnlab_oracle')
exec(compile(SRC, '<nnlab-oracle>', 'exec'), vars(_m))
_m.LIMIT = LIMIT
_m.SIDE = SIDE
sys.modules['_nnlab_oracle'] = _m
_spec = importlib.util.find_spec('nnlab.checks') if CHECKS is not None else None
if _spec is not None and 'nnlab.checks' not in sys.modules and _spec.origin:
    with open(_spec.origin) as _f:  # the sandbox's library has the stubs on disk: use them
        if 'CALLS: list' in _f.read():
            importlib.import_module('nnlab.checks')
if CHECKS is not None and getattr(sys.modules.get('nnlab.checks'), 'CALLS', None) is None:
    _stub = types.ModuleType('nnlab.checks')
    _stub.__path__ = list(_spec.submodule_search_locations or [])
    sys.modules['nnlab.checks'] = _stub
    exec(compile(CHECKS, '<nnlab-kernel-checks>', 'exec'), vars(_stub))
    sys.modules['nnlab'].checks = _stub
"""


class StudentError(Exception):
    """An exception of the student's code whose class is not a Python builtin; a subclass
    named after it is made per name, so a diagnosis reads `raised MyError: ...`."""


_ERRORS: dict[str, type] = {}


def student_error(name: str, message: str, args, builtin: bool) -> BaseException:
    """The grader-side exception for one the kernel reported: the builtin class of that
    name (ValueError, ZeroDivisionError, ...) when it is one, else a StudentError."""
    name, message = name[:100], message[:2000]  # a kernel's words, bounded here too
    cls = getattr(builtins, name, None) if builtin else None
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(*args) if args is not None else cls(message)
        except Exception:  # noqa: S110 (a builtin with other arguments: a StudentError)
            pass
    name = name if name.isidentifier() and len(_ERRORS) < 1000 else "StudentError"
    if name not in _ERRORS:
        _ERRORS[name] = type(name, (StudentError,), {"__module__": "student"})
    return _ERRORS[name](message)


# --------------------------------------------------------------------------- proxies

def _forbidden(functions) -> list[list[str]]:
    """The (module, qualified name) pairs the kernel is told student code may not call."""
    return [[getattr(f, "__module__", ""), getattr(f, "__qualname__", "")] for f in functions]


class Proxy:
    """An object that stays in the kernel, reached by handle. Reading an attribute, setting
    one, calling, iterating all go through the oracle; dunder probes never do."""

    __nnlab_remote__ = True
    __slots__ = ("_nnlab_oracle", "_nnlab_handle", "_nnlab_methods", "__weakref__")

    def __getattr__(self, name):
        if name.startswith("__") or name.startswith("_nnlab"):
            raise AttributeError(name)
        if name in self._nnlab_methods:  # read when called: one request, not two
            return Method(self, name)
        return self._nnlab_oracle.request("getattr", self, name)

    def __setattr__(self, name, value):
        self._nnlab_oracle.request("setattr", self, name, value)

    def __repr__(self):
        return f"<{type(self).__name__} in the student's kernel>"

    def __del__(self):
        oracle = getattr(self, "_nnlab_oracle", None)
        if oracle is not None and not oracle.dead:
            oracle._released.append(self._nnlab_handle)

    # The access layer of nnlab.checks._student.
    def _nnlab_call(self, args, kwargs, *, seconds=None, forbid=()):
        return self._nnlab_oracle.request("call", self, tuple(args), dict(kwargs),
                                          seconds=seconds, forbid=_forbidden(forbid))

    def _nnlab_global(self, name):
        return self._nnlab_oracle.request("global", self, name)

    @contextlib.contextmanager
    def _nnlab_swap_globals(self, mapping):
        token = self._nnlab_oracle.request("swap", self, dict(mapping))
        try:
            yield
        finally:
            self._nnlab_oracle.request("unswap", self, token)

    def _nnlab_defaults(self):
        return self._nnlab_oracle.request("defaults", self)


class Method:
    """`proxy.name` where the kernel said `name` is a method of the object's class. Calling
    it sends one "callattr" request (the kernel reads the attribute and calls it, exactly
    as `obj.name(...)` does there); anything else about it (its globals, its defaults, as
    an argument) reads the attribute first, like any other. A layer's `forward` and
    `backward` are most of notebook 03's and 07's requests."""

    __nnlab_remote__ = True
    __slots__ = ("_nnlab_owner", "_nnlab_name", "_nnlab_read")

    def __init__(self, owner: Proxy, name: str):
        object.__setattr__(self, "_nnlab_owner", owner)
        object.__setattr__(self, "_nnlab_name", name)
        object.__setattr__(self, "_nnlab_read", None)

    @property
    def _nnlab_oracle(self):
        return self._nnlab_owner._nnlab_oracle

    def _nnlab_resolve(self) -> Proxy:
        if self._nnlab_read is None:
            read = self._nnlab_oracle.request("getattr", self._nnlab_owner, self._nnlab_name)
            object.__setattr__(self, "_nnlab_read", read)
        return self._nnlab_read

    def __call__(self, *args, **kwargs):
        return self._nnlab_oracle.request("callattr", self._nnlab_owner, self._nnlab_name,
                                          args, kwargs)

    def _nnlab_call(self, args, kwargs, *, seconds=None, forbid=()):
        return self._nnlab_oracle.request("callattr", self._nnlab_owner, self._nnlab_name,
                                          tuple(args), dict(kwargs), seconds=seconds,
                                          forbid=_forbidden(forbid))

    def _nnlab_global(self, name):
        return self._nnlab_resolve()._nnlab_global(name)

    def _nnlab_swap_globals(self, mapping):
        return self._nnlab_resolve()._nnlab_swap_globals(mapping)

    def _nnlab_defaults(self):
        return self._nnlab_resolve()._nnlab_defaults()

    def __getattr__(self, name):
        if name.startswith("__") or name.startswith("_nnlab"):
            raise AttributeError(name)
        return getattr(self._nnlab_resolve(), name)

    def __setattr__(self, name, value):
        setattr(self._nnlab_resolve(), name, value)

    def __repr__(self):
        return f"<method {self._nnlab_name} in the student's kernel>"


def _call(self, *args, **kwargs):
    return self._nnlab_oracle.request("call", self, args, kwargs)


def _iter(self):
    return self._nnlab_oracle.request("iter", self)


def _next(self):
    return self._nnlab_oracle.request("next", self)


_CLASSES: dict[tuple, type] = {}


def proxy_class(type_name: str, call: bool, it: bool, nxt: bool) -> type:
    """A Proxy subclass named like the kernel object's type, with `__call__`, `__iter__`,
    `__next__` only when the kernel object has them (so callable() and hasattr agree)."""
    name = type_name if type_name.isidentifier() and len(type_name) <= 100 else "KernelObject"
    if len(_CLASSES) > 1000:  # a kernel inventing type names costs no more than this
        name = "KernelObject"
    key = (name, call, it, nxt)
    if key not in _CLASSES:
        space = {"__slots__": (), "__module__": "student"}
        if call:
            space["__call__"] = _call
        if it:
            space["__iter__"] = _iter
        if nxt:
            space["__next__"] = _next
        _CLASSES[key] = type(name, (Proxy,), space)
    return _CLASSES[key]


# --------------------------------------------------------------------------- values

def _npy(arr: np.ndarray) -> str:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)  # keeps 0-d (ascontiguousarray would not)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _load(text) -> np.ndarray:
    arr = np.load(io.BytesIO(base64.b64decode(str(text), validate=True)), allow_pickle=False)
    if arr.dtype.kind not in NUMERIC:
        raise ValueError(f"an array of dtype {arr.dtype} is not a value the grader takes")
    return arr


class _Encoder:
    """Grader values to JSON. One object is sent once per request (a memo key), so an array
    passed twice, or bound in a KernelFunction and passed, is one array in the kernel.

    Only what is handed over as an argument (directly or inside tuples, lists and dicts)
    is `writable`: student code's in-place writes come back into those arrays and
    containers alone, and only they may come back as a result. What a KernelFunction
    merely binds (the weights `c` of a probe function the check computes its expected
    value from) is sent, never written back.
    """

    def __init__(self, oracle, args=()):
        self.oracle = oracle
        self.memo: dict[int, int] = {}
        self.objects: dict[int, object] = {}  # memo key -> the grader's object (kept alive)
        self.writable: set[int] = set()       # id() of what was handed over as an argument
        stack = list(args)
        while stack:
            obj = stack.pop()
            if isinstance(obj, KernelFunction):  # itself, not what it binds
                self.writable.add(id(obj))
            elif type(obj) in (tuple, list, dict) or isinstance(obj, np.ndarray):
                if id(obj) not in self.writable:
                    self.writable.add(id(obj))
                    stack.extend(obj.values() if type(obj) is dict else
                                 obj if type(obj) in (tuple, list) else ())

    def _remember(self, obj):
        key = len(self.objects) + 1
        self.memo[id(obj)] = key
        self.objects[key] = obj
        return key

    def writable_keys(self) -> set[int]:
        return {key for key, obj in self.objects.items() if id(obj) in self.writable}

    def __call__(self, obj):
        if isinstance(obj, Method):  # as an argument: the attribute itself
            obj = obj._nnlab_resolve()
        if id(obj) in self.memo:
            return {"r": self.memo[id(obj)]}
        if is_remote(obj):
            if obj._nnlab_oracle is not self.oracle:
                raise ValueError("a proxy of another kernel was handed to this one")
            return {"h": obj._nnlab_handle}
        if isinstance(obj, KernelFunction):
            bound = [[k, self(v)] for k, v in obj.bound.items()]
            return {"f": {"source": obj.source, "name": obj.name, "bound": bound},
                    "id": self._remember(obj)}
        if isinstance(obj, np.ndarray) and obj.dtype.kind in NUMERIC:
            node = {"a": _npy(obj), "id": self._remember(obj)}
            if id(obj) in self.writable:
                node["w"] = self.oracle._watch(obj)
            return node
        if isinstance(obj, np.generic) and obj.dtype.kind in NUMERIC:
            return {"s": _npy(np.asarray(obj))}
        if type(obj) in PLAIN:
            return {"v": obj}
        if type(obj) is tuple:
            return {"t": [self(x) for x in obj]}
        if type(obj) is list:
            key = self._remember(obj)
            return {"l": [self(x) for x in obj], "id": key}
        if type(obj) is dict:
            key = self._remember(obj)
            return {"d": [[self(k), self(v)] for k, v in obj.items()], "id": key}
        raise TypeError(f"{type(obj).__name__} cannot be sent to the student's kernel: only "
                        "arrays, plain values, their tuples, lists and dicts, proxies and "
                        "KernelFunctions are (nothing of the grader ever enters the kernel)")


class _Decoder:
    def __init__(self, oracle, memo_objects, writable):
        self.oracle = oracle
        self.objects = memo_objects
        self.writable = writable  # memo keys an answer may refer back to

    def __call__(self, node, depth=0):
        if not isinstance(node, dict) or len(node) < 1 or depth > 60:
            raise ValueError("a value the grader cannot read")
        if "v" in node:
            value = node["v"]
            if type(value) not in PLAIN:
                raise ValueError("a plain value that is not plain")
            return value
        if "a" in node:
            return _load(node["a"])
        if "s" in node:
            return _load(node["s"])[()]
        if "r" in node:
            if node["r"] not in self.writable:
                raise ValueError("a reference to something not handed over")
            return self.objects[node["r"]]
        if "t" in node:
            return tuple(self(x, depth + 1) for x in node["t"])
        if "l" in node:
            return [self(x, depth + 1) for x in node["l"]]
        if "d" in node:
            return {self(k, depth + 1): self(v, depth + 1) for k, v in node["d"]}
        if "h" in node:
            return self.oracle._proxy(node)
        raise ValueError("a value the grader cannot read")


# --------------------------------------------------------------------------- the client

class Oracle:
    """A blocking client of one running kernel, for the judge.

    `connection` is the kernel's connection info (KernelManager.get_connection_info());
    `interrupt` interrupts the kernel (for a request past its deadline). `seconds` bounds
    every request that gives no limit of its own; `grace` is what a limit gets on top
    before the kernel is interrupted, and again before the oracle is declared dead.
    """

    def __init__(self, connection: dict, interrupt=None, *, limit: int = LIMIT,
                 seconds: float = 10.0, grace: float = 3.0):
        self.session = Session(key=_bytes(connection.get("key", b"")),
                               signature_scheme=connection.get("signature_scheme",
                                                               "hmac-sha256"))
        # The process's shared context: a context of our own would block in term() when
        # garbage-collected with a socket still open.
        self.socket = zmq.Context.instance().socket(zmq.DEALER)
        self.socket.setsockopt(zmq.MAXMSGSIZE, limit + 1024 * 1024)
        self.socket.setsockopt(zmq.RCVHWM, 4)
        self.socket.linger = 0
        if connection.get("transport", "tcp") == "ipc":
            url = f"ipc://{connection['ip']}-{connection['shell_port']}"
        else:
            url = f"tcp://{connection['ip']}:{connection['shell_port']}"
        self.socket.connect(url)
        # The side socket of sessions (see `serving`): only beside an ipc kernel's own
        # sockets, in a folder no other user can enter. Over tcp any local process could
        # connect first, so there every request stays an execute request. The grader
        # binds it and gives it to the folder's owner (the kernel user) alone; the kernel
        # connects. The grader never follows a path the kernel could have made a link.
        self.side_path = (f"{connection['ip']}-oracle"
                          if connection.get("transport", "tcp") == "ipc" else None)
        self.side = None
        if self.side_path:
            self.side = zmq.Context.instance().socket(zmq.PAIR)
            self.side.setsockopt(zmq.MAXMSGSIZE, limit + 1024 * 1024)
            self.side.linger = 0
            try:
                self.side.bind(f"ipc://{self.side_path}")
                owner = os.stat(os.path.dirname(self.side_path)).st_uid
                if owner != os.geteuid():
                    os.chown(self.side_path, owner, -1)
                os.chmod(self.side_path, 0o600)
            except (zmq.ZMQError, OSError):  # no side socket: execute requests only
                self.side.close(linger=0)
                self.side, self.side_path = None, None
        self._in_session = False
        self._sent = 0
        self.interrupt = interrupt
        self.limit, self.seconds, self.grace = limit, seconds, grace
        self.dead: str | None = None
        self.requests = 0
        self._released: list[int] = []
        self._watched: dict[int, weakref.ref] = {}  # watch key -> the grader's array
        self._unwatch: list[int] = []
        self._proxies: weakref.WeakValueDictionary = weakref.WeakValueDictionary()

    def close(self) -> None:
        self.dead = self.dead or "closed"
        self.socket.close(linger=0)
        if self.side is not None:
            self.side.close(linger=0)

    # ------------------------------------------------------------------ start

    def start(self, stub_checks: bool = True) -> None:
        """Send the kernel side in (and, unless the kernel has them already, the stub
        checks); raises RemoteTimeout if the kernel does not answer."""
        source = KERNEL_SOURCE.read_text()
        checks = STUB_CHECKS.read_text() if stub_checks else None
        expr = (f"(lambda g: (exec(compile({BOOT!r}, '<nnlab-oracle-boot>', 'exec'), g), "
                f"'ready')[1])({{'SRC': {source!r}, 'CHECKS': {checks!r}, "
                f"'LIMIT': {self.limit!r}, 'SIDE': {self.side_path!r}, "
                f"'__builtins__': __builtins__}})")
        value = self._execute(expr, self.seconds + 20)
        if value.get("status") != "ok":
            raise RuntimeError(f"the oracle could not start in the kernel: "
                               f"{value.get('ename')}: {value.get('evalue')}")

    # ------------------------------------------------------------------ requests

    def lookup(self, name: str):
        """The notebook's global `name`: a value, or a Proxy (NameError when undefined)."""
        return self.request("lookup", name)

    def stubs(self, names: list[str], since: int, last: bool = False) -> dict:
        """The stub checks' calls since `since` (with `last`, only the last cell's), and
        whether each of `names` is the stub."""
        return self.request("stubs", list(names), since, bool(last))

    def request(self, op: str, *args, seconds: float | None = None, forbid=()):
        if self.dead:
            raise RemoteTimeout(self.dead)
        encoder = _Encoder(self, args)
        body = {"op": op, "args": [encoder(a) for a in args], "errstate": np.geterr(),
                "release": self._released[:], "unwatch": self._unwatch[:],
                "seconds": seconds or self.seconds, "forbid": [list(f) for f in forbid]}
        self._released.clear()
        self._unwatch.clear()
        # The kernel limits CPU time; this clock only stops code that waits (sleeps, or
        # ignores SIGPROF), with room for a machine so loaded a process gets 1/3 of a core.
        clock = 3 * (seconds or self.seconds) + self.grace
        if self._in_session:
            text = self._side_request(json.dumps(body), clock)
        else:
            expr = f"__import__('_nnlab_oracle').serve({json.dumps(body)!r})"
            text = self._answer_text(self._execute(expr, clock))
        self.requests += 1
        try:
            if text.count("{") > MAX_NODES:
                raise ValueError(f"more than {MAX_NODES} values in one answer")
            answer = json.loads(text)
            writable = encoder.writable_keys()
            decode = _Decoder(self, encoder.objects, writable)
            self._apply(answer.get("changed", []), decode,
                        {k: v for k, v in encoder.objects.items() if k in writable})
            self._apply_watched(answer.get("watched", []))
            for category, message in answer.get("warnings", [])[:20]:
                cls = getattr(builtins, str(category), None)
                cls = cls if isinstance(cls, type) and issubclass(cls, Warning) else UserWarning
                warnings.warn(str(message)[:500], cls, stacklevel=3)
            if answer.get("forbidden"):
                raise ReferenceCalled(str(answer["forbidden"]))
            if answer.get("timeout"):
                raise RemoteTimeout(f"did not return within {seconds or self.seconds:g} s")
            if "exc" in answer:
                name, message, exc_args, builtin = answer["exc"]
                error = student_error(str(name), str(message), exc_args, bool(builtin))
            else:
                return decode(answer["ok"])
        except (ReferenceCalled, RemoteTimeout):
            raise
        except Exception as exc:  # an answer this side cannot read: the kernel's doing
            raise student_error("OracleBroken", f"the kernel's answer could not be read "
                                f"({type(exc).__name__})", None, False) from None
        raise error

    @staticmethod
    def _answer_text(value: dict) -> str:
        if value.get("status") != "ok":
            raise student_error("OracleBroken", f"the kernel did not run the grader's "
                                f"request ({value.get('ename')}: {value.get('evalue')})",
                                None, False)
        text = value.get("data", {}).get("text/x-nnlab-oracle")
        if not isinstance(text, str):
            raise student_error("OracleBroken", "the kernel answered something that is "
                                "not the oracle's answer", None, False)
        return text

    # ------------------------------------------------------------------ sessions

    @contextlib.contextmanager
    def serving(self):
        """Within this block, requests travel over the side socket to one execute cycle
        of the kernel that serves them all (oracle_kernel.session): a socket round trip
        each instead of an execute request each. Where the kernel has no side socket, or
        its session does not start, requests go as execute requests as before."""
        if self.dead or self.side is None or self._in_session:
            yield self
            return
        token = f"s{time.monotonic_ns()}"
        expr = f"__import__('_nnlab_oracle').session({token!r})"
        msg_id = self._send(expr)
        began = self._side_wait(f"hello {token}", self.seconds + self.grace, shell=msg_id)
        self._in_session = began is True
        if not self._in_session:  # it ended at once, or never began: go on without it
            if began is None:
                self._settle(msg_id)
            self.side.close(linger=0)
            self.side = None
        try:
            yield self
        finally:
            if self._in_session:
                self._in_session = False
                with contextlib.suppress(zmq.ZMQError):
                    self.side.send_string("bye ", zmq.NOBLOCK)
                if not self.dead and self._wait(msg_id, self.grace) is None:
                    self._settle(msg_id)  # a dead oracle waits for nothing more

    def _side_request(self, body: str, seconds: float) -> str:
        self._sent += 1
        rid = str(self._sent)
        self.side.send_string(f"{rid} {body}")
        try:
            text = self._side_wait(rid, seconds)
            if text is None:  # past its clock: interrupt, and give it the grace to answer
                if self.interrupt is not None:
                    with contextlib.suppress(Exception):
                        self.interrupt()
                text = self._side_wait(rid, self.grace)
        except BaseException:
            # Interrupted here (the check's own time limit): stop the kernel's work and take
            # its answer off the socket, so the next request reads its own.
            if self.interrupt is not None:
                with contextlib.suppress(Exception):
                    self.interrupt()
            self._side_wait(rid, self.grace)
            raise
        if text is None:
            self.dead = ("the notebook's kernel stopped answering the grader (it was "
                         "interrupted and still did not return)")
            raise RemoteTimeout(self.dead)
        return text

    def _side_wait(self, rid: str, seconds: float, shell: str | None = None):
        """The side socket's answer to request `rid` (its text; True for a `hello`); None
        after `seconds`; False as soon as the shell's reply to `shell` arrives."""
        deadline = time.monotonic() + seconds
        poller = zmq.Poller()
        poller.register(self.side, zmq.POLLIN)
        if shell:
            poller.register(self.socket, zmq.POLLIN)
        while (left := deadline - time.monotonic()) > 0:
            ready = dict(poller.poll(int(min(left, 1.0) * 1000)))
            if shell and self.socket in ready and self._wait(shell, 0.001) is not None:
                return False
            if self.side not in ready:
                continue
            try:
                frame = self.side.recv(zmq.NOBLOCK)
            except zmq.ZMQError:
                continue
            head, _, text = frame.partition(b" ")
            if rid.startswith("hello "):
                if frame == rid.encode():
                    return True
                continue
            if head == rid.encode():
                try:
                    return text.decode()
                except UnicodeDecodeError:
                    return '{"exc": ["OracleBroken", "an answer that is not text", null, false]}'
        return None

    def _watch(self, arr: np.ndarray) -> int:
        """A key under which the kernel reports later in-place writes into its copy of
        `arr`; forgotten there once `arr` is garbage here."""
        self._counter = getattr(self, "_counter", 0) + 1
        key = self._counter
        self._watched[key] = weakref.ref(arr, lambda _ref, k=key: self._forget(k))
        return key

    def _forget(self, key: int) -> None:
        if self._watched.pop(key, None) is not None:
            self._unwatch.append(key)

    def _apply_watched(self, watched) -> None:
        """Copy what student code wrote into arrays the grader sent back into them."""
        for key, node in watched:
            ref = self._watched.get(key)
            target = ref() if ref is not None else None
            if target is not None and "a" in node:
                new = _load(node["a"])
                if new.shape == target.shape and target.flags.writeable:
                    target[...] = new

    def _apply(self, changed, decode, objects) -> None:
        """Replace the items of the lists and dicts sent whose items student code rebound."""
        for key, node in changed:
            target = objects.get(key)
            if isinstance(target, list) and "l" in node:
                target[:] = decode(node)
            elif isinstance(target, dict) and "d" in node:
                new = decode(node)
                target.clear()
                target.update(new)

    def _proxy(self, node) -> Proxy:
        handle = int(node["h"])
        proxy = self._proxies.get(handle)
        if proxy is None:
            cls = proxy_class(str(node.get("type", "")), bool(node.get("call")),
                              bool(node.get("iter")), bool(node.get("next")))
            proxy = object.__new__(cls)
            object.__setattr__(proxy, "_nnlab_oracle", self)
            object.__setattr__(proxy, "_nnlab_handle", handle)
            self._proxies[handle] = proxy
            while handle in self._released:
                self._released.remove(handle)
        methods = node.get("methods")
        methods = methods[:64] if isinstance(methods, list) else []
        object.__setattr__(proxy, "_nnlab_methods",  # as the kernel sees it now
                           frozenset(m for m in methods if isinstance(m, str)
                                     and m.isidentifier() and not m.startswith("_")))
        return proxy

    # ------------------------------------------------------------------ the wire

    def _send(self, expr: str) -> str:
        """Ask the kernel to evaluate `expr` as a silent user expression; the msg_id."""
        content = {"code": "", "silent": True, "store_history": False,
                   "user_expressions": {"r": expr}, "allow_stdin": False,
                   "stop_on_error": False}
        return self.session.send(self.socket, "execute_request", content)["header"]["msg_id"]

    def _execute(self, expr: str, seconds: float) -> dict:
        """Run `expr` as a silent user expression; its result dict, or RemoteTimeout."""
        msg_id = self._send(expr)
        try:
            reply = self._wait(msg_id, seconds)
        except RemoteTimeout:
            raise
        except BaseException:
            # Interrupted here (the check's own time limit): stop the kernel's work and
            # take its answer off the socket, so the next request reads its own.
            self._settle(msg_id)
            raise
        if reply is None:
            self._settle(msg_id)
            raise RemoteTimeout(self.dead or f"did not return within {seconds:g} s")
        if reply.get("status") != "ok":
            return {"status": "error", "ename": reply.get("ename"),
                    "evalue": reply.get("evalue")}
        return (reply.get("user_expressions") or {}).get("r") or {}

    def _settle(self, msg_id: str) -> None:
        if self._wait(msg_id, 0.05) is not None:
            return  # it answered after all: an interrupt now would hit the next request
        if self.interrupt is not None:
            try:
                self.interrupt()
            except Exception:  # noqa: S110 (a kernel that cannot be interrupted is dead below)
                pass
        if self._wait(msg_id, self.grace) is None:
            self.dead = ("the notebook's kernel stopped answering the grader (it was "
                         "interrupted and still did not return)")

    def _wait(self, msg_id: str, seconds: float) -> dict | None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if not self.socket.poll(int(min(left, 1.0) * 1000)):
                continue
            frames = self._recv()
            if frames is None:
                continue
            try:
                _idents, parts = self.session.feed_identities(frames, copy=True)
                msg = self.session.deserialize(parts, content=True, copy=True)
            except Exception:  # noqa: S112 (not a message of this session: ignored)
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id and \
                    msg.get("msg_type") == "execute_reply":
                return msg.get("content") or {}
        return None

    def _recv(self) -> list[bytes] | None:
        """One message's frames, or None when it has more frames or bytes than any answer
        (read and dropped frame by frame, so it never sits in memory whole)."""
        frames, size, ok = [], 0, True
        while True:
            frame = self.socket.recv(copy=True)
            size += len(frame)
            if ok and len(frames) < MAX_FRAMES and size <= self.limit + 1024 * 1024:
                frames.append(frame)
            else:
                ok = False
                frames = []
            if not self.socket.getsockopt(zmq.RCVMORE):
                return frames if ok else None


def _bytes(key) -> bytes:
    return key if isinstance(key, bytes) else str(key).encode()

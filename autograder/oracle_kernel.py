"""The oracle's kernel side: answers the grader's narrow requests inside the student's kernel.

`autograder.oracle` sends this file's SOURCE into the grading kernel when it starts; the
grader never imports it to run it. Each request is one JSON text (look up a name, call,
get or set an attribute, ...) evaluated as a user expression; the answer is one JSON text
in which arrays travel as .npy bytes and every other object stays here behind a numbered
handle. Everything here runs where the student's code runs and may be replaced by it:
that can change what the student's code appears to return, never the verdict, which the
grader computes from those values with its own code.
"""

# ruff: noqa: S102, S307 (exec and eval of the checks' own KernelFunction source)
import base64
import builtins
import contextlib
import inspect
import io
import json
import signal
import sys
import threading
import warnings

import numpy as np

#: Bytes of arrays and text one answer may carry; the grader refuses larger ones too.
LIMIT = 16 * 1024 * 1024
PLAIN = (type(None), bool, int, float, str)
NUMERIC = "biufc"  # bool, int, unsigned, float, complex: the dtypes that travel by value

_objects: dict = {}   # handle -> object, kept alive until the grader releases it
_handles: dict = {}   # id(object) -> handle
_swaps: dict = {}     # token -> (namespace, saved values)
_watched: dict = {}   # grader's watch key -> (array sent in, its bytes when last reported)
_counter = [0]


class TooLarge(Exception):
    pass


class Reply:
    """What the user expression evaluates to: IPython shows it as the JSON text itself."""

    def __init__(self, text):
        self.text = text

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/x-nnlab-oracle": self.text}

    def __repr__(self):
        return "<nnlab oracle reply>"


# --------------------------------------------------------------------------- values

def _npy(arr) -> str:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)  # keeps 0-d (ascontiguousarray would not)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _load(text):
    return np.load(io.BytesIO(base64.b64decode(text)), allow_pickle=False)


def _methods(obj) -> list:
    """Names of the plain functions of obj's class that its instance does not shadow: the
    grader calls `obj.name(...)` on these in one request ("callattr") instead of two."""
    try:
        own = vars(obj)
    except TypeError:
        own = {}
    names = []
    for klass in type(obj).__mro__[:-1]:
        for name, value in vars(klass).items():
            if callable(value) and type(value).__name__ == "function" \
                    and not name.startswith("__") and name not in own and name not in names:
                names.append(name)
    return names[:64]


def _handle(obj) -> dict:
    key = id(obj)
    if key not in _handles:
        _counter[0] += 1
        _handles[key] = _counter[0]
        _objects[_counter[0]] = obj
    it = hasattr(type(obj), "__iter__")
    node = {"h": _handles[key], "type": type(obj).__name__, "call": callable(obj),
            "iter": it, "next": hasattr(type(obj), "__next__")}
    if not isinstance(obj, type) and type(obj).__module__ != "builtins":
        node["methods"] = _methods(obj)
    return node


class Encoder:
    """Kernel objects to JSON: plain values and numeric arrays by value, the rest by handle;
    an array or container the grader sent in this request goes back as a reference."""

    def __init__(self, memo_ids):
        self.memo_ids = memo_ids  # id(kernel object) -> the grader's memo key
        self.size = 0

    def __call__(self, obj, depth=0):
        if depth > 50:
            raise TooLarge("a value nested more than 50 deep")
        key = self.memo_ids.get(id(obj))
        if key is not None:
            return {"r": key}
        if isinstance(obj, (np.ndarray, np.generic)) and obj.dtype.kind in NUMERIC:
            self._count(obj.nbytes)
            return {"s" if isinstance(obj, np.generic) else "a": _npy(np.asarray(obj))}
        if isinstance(obj, PLAIN):
            if isinstance(obj, str):
                self._count(len(obj))
            base = next(t for t in PLAIN if isinstance(obj, t))  # a subclass travels as its base
            return {"v": obj if type(obj) is base else base(obj)}
        if isinstance(obj, (tuple, list)):
            self._count(8 * len(obj))
            return {"t" if isinstance(obj, tuple) else "l": [self(x, depth + 1) for x in obj]}
        if type(obj) is dict and all(isinstance(k, PLAIN) for k in obj):
            self._count(8 * len(obj))
            return {"d": [[self(k, depth + 1), self(v, depth + 1)] for k, v in obj.items()]}
        return _handle(obj)

    def _count(self, n):
        self.size += n
        if self.size > LIMIT:
            raise TooLarge(f"the answer is larger than {LIMIT} bytes")


class Decoder:
    """JSON from the grader to kernel objects; one memo key is one kernel object."""

    def __init__(self):
        self.memo = {}       # grader memo key -> kernel object
        self.original = {}   # memo key -> a copy of an array as it arrived

    def __call__(self, node):
        if "v" in node:
            return node["v"]
        if "r" in node:
            return self.memo[node["r"]]
        if "a" in node:
            arr = _load(node["a"])
            self.memo[node["id"]] = arr
            if "w" in node:  # handed over as an argument: in-place writes are reported
                _watched[node["w"]] = (arr, arr.tobytes(), arr.shape)
            return arr
        if "s" in node:
            return _load(node["s"])[()]
        if "h" in node:
            return _objects[node["h"]]
        if "t" in node:
            return tuple(self(x) for x in node["t"])
        if "l" in node:
            out = [self(x) for x in node["l"]]
            if "id" in node:
                self.memo[node["id"]] = out
                self.original[node["id"]] = [id(x) for x in out]
            return out
        if "d" in node:
            out = {self(k): self(v) for k, v in node["d"]}
            if "id" in node:
                self.memo[node["id"]] = out
                self.original[node["id"]] = [(k, id(v)) for k, v in out.items()]
            return out
        if "f" in node:
            spec = node["f"]
            space = {"np": np}
            space.update({k: self(v) for k, v in spec["bound"]})
            if spec["name"] is None:
                fn = eval(spec["source"], space)
            else:
                exec(spec["source"], space)
                fn = space[spec["name"]]
            self.memo[node["id"]] = fn
            return fn
        raise ValueError(f"unknown value {sorted(node)}")

    def changes(self, encode):
        """What student code changed in the containers the grader sent: [[key, value]]."""
        out = []
        for key, obj in self.memo.items():
            before = self.original.get(key)
            if isinstance(obj, list) and [id(x) for x in obj] != before:
                out.append([key, {"l": [encode(x) for x in obj]}])
            elif isinstance(obj, dict) and [(k, id(v)) for k, v in obj.items()] != before:
                out.append([key, {"d": [[encode(k), encode(v)] for k, v in obj.items()]}])
        return out


# --------------------------------------------------------------------------- limits

class OutOfTime(BaseException):
    """Raised in student code at its deadline; a BaseException, like the checks' own."""


@contextlib.contextmanager
def time_limit(seconds):
    """SIGPROF every 0.2 s after `seconds` of this process's CPU time; a frame that
    swallows it is stopped on its next line (as `nnlab.checks._core.time_limit` does
    locally, by the clock). CPU time, so a grading machine under load never times out a
    correct answer; code that waits without computing meets the grader's own clock."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    stuck, alarms = [], [0]

    def tracer(frame, event, arg):
        if event == "line" and any(frame is f for f in stuck):
            raise OutOfTime()
        return None if event == "call" else tracer

    def on_alarm(signum, frame):
        alarms[0] += 1
        if alarms[0] > 1 and not stuck:
            f = frame
            while f is not None and f.f_code.co_filename != "<nnlab-oracle>":
                f.f_trace = tracer
                stuck.append(f)
                f = f.f_back
            sys.settrace(tracer)
        raise OutOfTime()

    previous = signal.signal(signal.SIGPROF, on_alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds, 0.2)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
        if stuck:
            sys.settrace(None)
            for f in stuck:
                f.f_trace = None


def _codes(obj):
    codes = set()
    for klass in (obj.__mro__[:-1] if isinstance(obj, type) else [None]):
        for value in (vars(klass).values() if klass is not None else [obj]):
            fn = getattr(value, "__func__", value)
            if hasattr(fn, "__code__"):
                codes.add(fn.__code__)
    return codes


def _fingerprint(code):
    return (code.co_code, code.co_consts, code.co_names, code.co_varnames)


@contextlib.contextmanager
def forbidden(names, hits):
    """Best effort, as the in-kernel checks did: note a call into a reference that is
    loaded here. With the sandbox's library mirror the reference is not loaded at all."""
    codes = set()
    for module, name in names:
        obj = getattr(sys.modules.get(module), name, None)
        if obj is not None:
            codes |= _codes(obj)
    if not codes:
        yield
        return

    prints = {_fingerprint(c) for c in codes}
    seen: dict = {}

    def profiler(frame, event, arg):
        if event != "call" or hits:
            return
        code = frame.f_code
        if code not in seen:  # a clone (code.replace with another name or file) counts
            seen[code] = code in codes or _fingerprint(code) in prints
        if seen[code]:
            hits.append(code.co_qualname)

    previous = sys.getprofile()
    sys.setprofile(profiler)
    try:
        yield
    finally:
        sys.setprofile(previous)


# --------------------------------------------------------------------------- operations

def _user_ns():
    from IPython import get_ipython

    shell = get_ipython()
    return shell.user_ns if shell is not None else vars(sys.modules["__main__"])


def _namespace(obj):
    fn = getattr(obj, "__func__", obj)
    if hasattr(fn, "__globals__"):
        return fn.__globals__
    if isinstance(obj, type):
        for value in vars(obj).values():
            inner = getattr(value, "__func__", value)
            if hasattr(inner, "__globals__"):
                return inner.__globals__
        module = sys.modules.get(obj.__module__)
        return vars(module) if module is not None else {}
    return {}


def _defaults(obj):
    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return None
    return {k: p.default for k, p in params.items()
            if p.default is not inspect.Parameter.empty and isinstance(p.default, PLAIN)
            and type(p.default) in PLAIN}


def _stubs(names, since, last=False):
    """The stub checks' calls since `since`; with `last`, only those of the last cell run
    (a cell's calls carry IPython's execution count, which silent requests leave alone)."""
    checks = sys.modules.get("nnlab.checks")
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    cell = shell.execution_count if last and shell is not None else None
    calls = list(getattr(checks, "CALLS", []))[since:]
    space = _user_ns()
    bound = {n: space.get(n) is getattr(checks, n, object()) for n in names}
    return {"calls": [[str(c[0]), str(c[1]), sorted([str(k), repr(v)] for k, v in c[2].items())]
                      for c in calls
                      if isinstance(c, tuple) and len(c) == 4 and isinstance(c[2], dict)
                      and (cell is None or c[3] == cell)],
            "count": len(getattr(checks, "CALLS", [])), "bound": bound,
            "stub": bool(getattr(checks, "CALLS", None) is not None)}


def _run(req, decode):
    op = req["op"]
    args = [decode(a) for a in req.get("args", [])]
    if op == "lookup":
        space = _user_ns()
        if args[0] not in space:
            raise NameError(f"name {args[0]!r} is not defined")
        return space[args[0]]
    if op == "call":
        fn, pos, kw = args[0], args[1], args[2]
        return fn(*pos, **kw)
    if op == "getattr":
        return getattr(args[0], args[1])
    if op == "callattr":  # obj.name(*pos, **kw): the read and the call, one request
        return getattr(args[0], args[1])(*args[2], **args[3])
    if op == "setattr":
        setattr(args[0], args[1], args[2])
        return None
    if op == "global":
        return _namespace(args[0]).get(args[1])
    if op == "swap":
        space, missing = _namespace(args[0]), object()
        saved = {k: space.get(k, missing) for k in args[1]}
        space.update(args[1])
        _counter[0] += 1
        _swaps[_counter[0]] = (space, saved, missing)
        return _counter[0]
    if op == "unswap":
        space, saved, missing = _swaps.pop(args[1])  # (the owner, the token)
        for key, value in saved.items():
            if value is missing:
                space.pop(key, None)
            else:
                space[key] = value
        return None
    if op == "defaults":
        return _defaults(args[0])
    if op == "iter":
        return iter(args[0])
    if op == "next":
        return next(args[0])
    if op == "stubs":
        return _stubs(*args[:3])
    if op == "ping":
        return "pong"
    raise ValueError(f"unknown request {op!r}")


def _exception(exc) -> dict:
    plain = all(isinstance(a, (str, int, float)) for a in exc.args)
    return {"exc": [type(exc).__name__, str(exc)[:2000],
                    [a[:2000] if isinstance(a, str) else a for a in exc.args] if plain
                    else None, getattr(builtins, type(exc).__name__, None) is type(exc)]}


def _watch_changes():
    """Arrays the grader sent (in this request or an earlier one still alive there) that
    student code has written into since: [[watch key, new value]]. A generator that
    shuffles its input in place at the first next() is seen like a plain function."""
    out = []
    for key, (arr, before, shape) in list(_watched.items()):
        now = arr.tobytes()
        if now != before or arr.shape != shape:
            out.append([key, {"a": _npy(arr)}])
            _watched[key] = (arr, now, arr.shape)
    return out


#: Where the grader's side socket is (a path beside the kernel's own sockets), or None.
SIDE = None
IDLE = 600    # seconds a session waits for the grader's next request before it ends
_side: list = []


def _context():
    """The kernel's own zmq context. A new one would start an I/O thread, which a kernel
    user at its process limit (`--nproc`; a student's forks count) cannot start."""
    import zmq

    try:
        from ipykernel.kernelapp import IPKernelApp

        if IPKernelApp.initialized():
            context = IPKernelApp.instance().context
            if context is not None and not context.closed:
                return context
    except Exception:  # noqa: S110 (not an ipykernel: the process's shared context)
        pass
    return zmq.Context.instance()


def session(token):
    """Answer requests from the side socket until the grader says `bye`.

    The grader opens a session for each test cell it judges: one execute cycle of the
    kernel serves all of that cell's requests, each a socket round trip, instead of each
    request being an execute cycle of its own (four messages and IPython's formatters).
    The loop runs in the kernel's main thread, so a request's time limit and the grader's
    interrupt reach the student's code exactly as they do in `serve`.
    """
    import zmq

    if not _side:
        sock = _context().socket(zmq.PAIR)
        sock.linger = 0
        sock.connect("ipc://" + SIDE)  # the grader's, made for this kernel's user alone
        _side.append(sock)
    sock = _side[0]
    sock.send_string("hello " + str(token))
    waited = 0
    while True:
        try:
            if not sock.poll(1000):
                waited += 1
                if waited >= IDLE:
                    return Reply(json.dumps("idle"))
                continue
            waited = 0
            rid, _, body = sock.recv_string().partition(" ")
        except KeyboardInterrupt:  # the grader's interrupt, arriving between requests
            continue
        if rid == "bye":
            return Reply(json.dumps("bye"))
        try:
            reply = serve(body).text
        except KeyboardInterrupt:  # arriving after serve's own handler
            reply = json.dumps({"timeout": True})
        sock.send_string(rid + " " + reply)


def serve(text):
    """Answer one request (JSON text); the answer is a `Reply` holding JSON text."""
    try:
        req = json.loads(text)
        for handle in req.get("release", []):  # before the work: its answer may hand
            obj = _objects.pop(handle, None)      # the same object out again, anew
            if obj is not None:
                _handles.pop(id(obj), None)
        for key in req.get("unwatch", []):
            _watched.pop(key, None)
        decode = Decoder()
        hits, caught = [], []
        encode = Encoder({id(obj): key for key, obj in decode.memo.items()})
        try:
            with warnings.catch_warnings(record=True) as caught, \
                    np.errstate(**req.get("errstate", {})):
                warnings.simplefilter("always")
                with time_limit(req.get("seconds")), forbidden(req.get("forbid", []), hits):
                    value = _run(req, decode)
            encode.memo_ids = {id(obj): key for key, obj in decode.memo.items()}
            answer = {"ok": encode(value)}
        except (OutOfTime, KeyboardInterrupt):  # its own limit, or the grader's interrupt
            answer = {"timeout": True}
        except TooLarge as exc:
            answer = {"exc": ["TooLarge", str(exc), None, False]}
        except BaseException as exc:  # the student's error (even SystemExit), by name
            answer = _exception(exc)
        encode.memo_ids = {id(obj): key for key, obj in decode.memo.items()}
        answer["changed"] = decode.changes(encode)
        answer["watched"] = _watch_changes()
        answer["warnings"] = [[w.category.__name__, str(w.message)[:500]] for w in caught[:20]]
        if hits:
            answer["forbidden"] = hits[0]
        reply = json.dumps(answer)
    except Exception as exc:  # a request this side could not read, or an answer too large
        reply = json.dumps(_exception(exc))
    if len(reply) > LIMIT:
        reply = json.dumps({"exc": ["TooLarge", f"the answer is larger than {LIMIT} bytes",
                                    None, False]})
    return Reply(reply)

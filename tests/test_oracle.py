"""The oracle against one real kernel: every zoo specimen judged through it gets the local
verdict, values travel by value with the identity a check relies on, and nothing the
kernel does (errors, warnings, huge or forged answers, loops, a replaced server) reaches
the grader as more than a value, an error or a timeout.

One kernel serves the whole module (about 2 s to start); the zoo part makes some 30,000
requests at a few ms each.
"""

from __future__ import annotations

import json
from queue import Empty

import numpy as np
import pytest
from jupyter_client import KernelManager

from autograder.oracle import LIMIT, Oracle, Proxy, StudentError
from nnlab.checks import REGISTRY, CheckFailed
from nnlab.checks._core import call
from nnlab.checks._student import KernelFunction, RemoteTimeout, signature_defaults
from nnlab.checks.zoo import load

SPECIMENS = load()


def specimen_name(s) -> str:
    """The kernel's global for a specimen: by what it is, not by its place in the zoo's
    list (a test in the same process may register more specimens)."""
    import hashlib

    key = f"{s.check}|{s.style}|{getattr(s.obj, '__qualname__', repr(s.obj))}|{s.kwargs!r}"
    return "specimen_" + hashlib.sha1(key.encode()).hexdigest()[:16]


SETUP = """
import hashlib
import warnings
import numpy as np
from nnlab.checks.zoo import load
for _s in load():
    _key = f"{_s.check}|{_s.style}|{getattr(_s.obj, '__qualname__', repr(_s.obj))}|{_s.kwargs!r}"
    globals()["specimen_" + hashlib.sha1(_key.encode()).hexdigest()[:16]] = _s.obj

class Weird(Exception):
    pass

def boom(kind):
    if kind == "value":
        raise ValueError("bad value", 3)
    if kind == "weird":
        raise Weird("mine")
    if kind == "exit":
        raise SystemExit(1)
    1 / 0

def same(a, b):
    return a is b, a

def inc(a):
    a += 1

def rebind(d):
    d["w"] = d["w"] * 2

def overflow(z):
    return np.exp(z)

def big(n):
    return np.zeros(n)

def spin():
    while True:
        pass

def nap(seconds):
    import time
    time.sleep(seconds)
    return "rested"

def stubborn():
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    signal.signal(signal.SIGPROF, signal.SIG_IGN)
    while True:
        pass

class Layer:
    def __init__(self):
        self.W = np.ones((2, 2))
    def fit(self):
        return self
    def scaled(self, k):
        return self.W * k
    @property
    def size(self):
        return self.W.size

class Shadowed(Layer):
    def __init__(self):
        super().__init__()
        self.scaled = np.zeros(2)  # an instance attribute named like a method

def meddle(f, x):
    f.__globals__["c"][:] = 0.0  # what the probe function binds, reached through it
    x[:] = 7.0                   # what is handed over
    return f()

def kind(obj):
    return type(obj).__name__

def gen(x):
    x[0] = 99.0
    yield 1
    yield 2
"""


def _kernel(**kwargs):
    km = KernelManager(kernel_name="python3", **kwargs)
    km.start_kernel()
    kc = km.blocking_client()
    kc.start_channels()
    kc.wait_for_ready(60)
    return km, kc


def _run(kc, code):
    # The oracle's requests publish status messages on iopub too: drop what is queued, or
    # a full queue drops this execution's own messages.
    _drain(kc)
    reply = kc.execute_interactive(code, output_hook=lambda msg: None, timeout=120)
    assert reply["content"]["status"] == "ok", reply["content"]
    return reply["content"]["execution_count"]


def _drain(kc):
    while True:
        try:
            kc.iopub_channel.get_msg(timeout=0.01)
        except Empty:
            return


def _started(km, kc):
    oracle = Oracle(km.get_connection_info(), interrupt=km.interrupt_kernel, seconds=10)
    oracle.start()
    _run(kc, SETUP)
    return oracle


@pytest.fixture(scope="module")
def kernel():
    km, kc = _kernel()
    oracle = _started(km, kc)
    yield km, kc, oracle
    oracle.close()
    kc.stop_channels()
    km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def ipc_kernel(tmp_path_factory):
    """A kernel on Unix sockets, as the sandbox runs it: its oracle has a side socket."""
    km, kc = _kernel(transport="ipc", ip=str(tmp_path_factory.mktemp("ipc") / "k"))
    oracle = _started(km, kc)
    yield km, kc, oracle
    oracle.close()
    kc.stop_channels()
    km.shutdown_kernel(now=True)


@pytest.fixture(params=["execute", "session"])
def oracle(request):
    """The same oracle API two ways: each request an execute request (tcp), or all of a
    test's requests served by one session over the side socket (ipc, as when grading)."""
    if request.param == "execute":
        oracle = request.getfixturevalue("kernel")[2]
        if oracle.dead:  # a test below kills its own oracle on purpose
            pytest.fail("the module's oracle died")
        yield oracle
        return
    oracle = request.getfixturevalue("ipc_kernel")[2]
    if oracle.dead:
        pytest.fail("the module's ipc oracle died")
    with oracle.serving():
        assert oracle._in_session, "the session did not start"
        yield oracle


def _verdict(check, obj, hidden, kwargs):
    try:
        check(obj, hidden=hidden, **kwargs)
    except CheckFailed as exc:
        return ("fail", exc.bug, exc.kind)
    return ("pass", None, None)


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_every_zoo_specimen_gets_its_local_verdict_through_the_oracle(oracle, hidden):
    differ, judged = [], 0
    for specimen in SPECIMENS:
        check = REGISTRY[specimen.check]
        try:
            proxy = oracle.lookup(specimen_name(specimen))
        except NameError:  # registered by another test in this process, not in the zoo
            continue
        judged += 1
        local = _verdict(check, specimen.obj, hidden, specimen.kwargs)
        # an answer of notebook 07 or 03 is a plain value (an id, an index): it travels
        # by value; everything else is a handle
        assert isinstance(proxy, Proxy) != isinstance(specimen.obj, (str, int, float))
        remote = _verdict(check, proxy, hidden, specimen.kwargs)
        if remote != local:
            differ.append((specimen.check, getattr(specimen.obj, "__name__", repr(specimen.obj)),
                           local, remote))
    assert not differ, differ
    assert judged > 200


def test_values_travel_by_value_and_objects_by_handle(oracle):
    assert oracle.lookup("np") is not np
    layer = oracle.lookup("Layer")()
    assert isinstance(layer, Proxy) and type(layer).__name__ == "Layer"
    W = layer.W
    assert type(W) is np.ndarray and W.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    W[0, 0] = 5.0  # a copy: the kernel's array is untouched
    assert layer.W[0, 0] == 1.0
    layer.W = np.zeros((3,))  # a whole attribute can be set
    assert layer.W.shape == (3,)
    assert layer.fit() is layer  # the same kernel object is the same proxy
    with pytest.raises(AttributeError):
        layer.missing  # noqa: B018


def test_an_array_passed_twice_is_one_array_and_in_place_writes_come_back(oracle):
    a = np.arange(3.0)
    same, back = oracle.lookup("same")(a, a)
    assert same is True and back is a
    oracle.lookup("inc")(a)
    assert a.tolist() == [1.0, 2.0, 3.0]
    params = {"w": np.ones(2)}
    held = params["w"]
    oracle.lookup("rebind")(params)
    assert params["w"] is not held and params["w"].tolist() == [2.0, 2.0]
    # bound in a KernelFunction and passed as an argument: one kernel array
    x = np.zeros(2)
    f = KernelFunction("lambda: x", x=x)
    assert oracle.lookup("same")(f, x)[0] is False  # f itself is not x ...
    numgrad = oracle.lookup(_first("check_numerical_gradient"))
    x = np.array([1.0, -2.0])
    grad = numgrad(KernelFunction("lambda: float((x ** 2).sum())", x=x), x)
    assert np.allclose(grad, [2.0, -4.0]) and x.tolist() == [1.0, -2.0]


def test_what_a_probe_function_only_binds_is_never_written_back(oracle):
    c, x = np.ones(2), np.zeros(2)
    f = KernelFunction("lambda: float(c.sum())", c=c)
    assert oracle.lookup("meddle")(f, x) == 0.0  # the kernel's copy of c was zeroed ...
    assert c.tolist() == [1.0, 1.0] and x.tolist() == [7.0, 7.0]  # ... the check's is not


def test_writes_into_an_input_after_the_call_still_come_back(oracle):
    x = np.zeros(2)
    it = oracle.lookup("gen")(x)
    assert hasattr(it, "__iter__") and list(it) == [1, 2]
    assert x[0] == 99.0


def _first(check):
    return specimen_name(next(s for s in SPECIMENS if s.check == check and s.correct))


def test_a_method_call_is_one_request_and_means_what_it_means_locally(oracle):
    layer = oracle.lookup("Layer")()
    before = oracle.requests
    assert layer.scaled(3.0).tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert oracle.requests - before == 1  # read and call: one "callattr", not two
    assert layer.fit()._nnlab_handle == layer._nnlab_handle  # returns the same kernel object
    assert layer.size == 4  # a property is read, never called
    method = layer.scaled
    layer.W = np.full((2, 2), 2.0)
    assert method(1.0).tolist() == [[2.0, 2.0], [2.0, 2.0]]  # read when called, as locally
    # as an argument, it is the attribute itself (a bound method in the kernel)
    assert oracle.lookup("kind")(layer.scaled) == "method"
    assert signature_defaults(layer.scaled) == {}
    shadowed = oracle.lookup("Shadowed")()
    assert shadowed.scaled.tolist() == [0.0, 0.0]  # the instance's array, not the method
    with pytest.raises(TypeError):
        oracle.lookup("Layer")().scaled()  # a missing argument fails as it would locally


def test_exceptions_read_as_they_would_locally(oracle):
    boom = oracle.lookup("boom")
    with pytest.raises(ValueError) as info:
        boom("value")
    assert info.value.args == ("bad value", 3)
    with pytest.raises(ZeroDivisionError):
        boom("zero")
    with pytest.raises(StudentError) as info:
        boom("weird")
    assert type(info.value).__name__ == "Weird" and str(info.value) == "mine"
    with pytest.raises(StudentError):  # never a SystemExit in the grader
        boom("exit")
    with pytest.raises(CheckFailed, match="raised ZeroDivisionError: division by zero"):
        call(boom, "zero", what="boom()")


def test_warnings_come_back_to_the_check(oracle):
    _, caught = call(oracle.lookup("overflow"), np.array([1000.0]), what="overflow()")
    assert any("overflow" in m for m in caught)
    with np.errstate(over="ignore"):  # the grader's error state is the kernel's too
        _, caught = call(oracle.lookup("overflow"), np.array([1000.0]), what="overflow()")
    assert caught == []


def test_nothing_of_the_grader_is_sent_in(oracle):
    with pytest.raises(TypeError, match="cannot be sent"):
        oracle.lookup("same")(lambda: 1, 2)
    with pytest.raises(TypeError, match="cannot be sent"):
        oracle.lookup("same")(object(), 2)


def test_an_answer_over_the_limit_is_refused(oracle):
    with pytest.raises(StudentError, match="larger than"):
        oracle.lookup("big")(LIMIT // 8 + 1000)
    assert oracle.request("ping") == "pong"


def test_a_loop_is_stopped_at_its_limit_and_the_kernel_answers_again(oracle):
    with pytest.raises(CheckFailed) as info:
        call(oracle.lookup("spin"), what="spin()", seconds=0.5)
    assert info.value.kind == "timeout"
    assert oracle.request("ping") == "pong"


def test_a_limit_counts_the_kernels_cpu_time_not_the_clock(oracle):
    # A grading machine under load slows a correct answer's clock, never its CPU time: a
    # call that waits a second on the clock, computing nothing, is within a 0.5 s limit.
    # (Code that only waits meets the grader's own clock, 3 x the limit + grace.)
    assert call(oracle.lookup("nap"), 1.0, what="nap(1.0)", seconds=0.5)[0] == "rested"
    assert oracle.request("ping") == "pong"


def test_a_replaced_server_changes_values_never_the_grader(kernel):
    km, kc, oracle = kernel
    _run(kc, "import _nnlab_oracle as _o\n_saved = _o.serve\n"
             "_o.serve = lambda text: _o.Reply('{\"ok\": {\"v\": 1e308}, \"exc\": 5}')")
    try:
        with pytest.raises(StudentError):  # a forged answer is not read as a value
            oracle.request("ping")
        _run(kc, "_o.serve = lambda text: _o.Reply("
                 "'{\"ok\": {\"a\": \"gASVAAAAAAAAAAA=\"}}')")  # a pickle, base64
        with pytest.raises(StudentError, match="could not be read"):
            oracle.request("ping")
        _run(kc, "_o.serve = lambda text: 'not a reply'")
        with pytest.raises(StudentError, match="not the oracle's answer"):
            oracle.request("ping")
        # A check against such a server fails; it never passes.
        with pytest.raises((CheckFailed, StudentError)):
            REGISTRY["check_sigmoid"](oracle.lookup(_first("check_sigmoid")))
    finally:
        _run(kc, "_o.serve = _saved")
    assert oracle.request("ping") == "pong"


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_a_kernel_that_never_answers_kills_only_its_oracle(transport, tmp_path):
    km, kc = _kernel(**({"transport": "ipc", "ip": str(tmp_path / "k")}
                        if transport == "ipc" else {}))
    try:
        oracle = Oracle(km.get_connection_info(), interrupt=km.interrupt_kernel,
                        seconds=1, grace=1)
        oracle.start()
        _run(kc, SETUP)
        with oracle.serving():  # over ipc, a session: the same end
            assert oracle._in_session == (transport == "ipc")
            stubborn = oracle.lookup("stubborn")
            with pytest.raises(CheckFailed) as info:
                call(stubborn, what="stubborn()", seconds=0.5)
            assert info.value.kind == "timeout" and oracle.dead
            with pytest.raises(RemoteTimeout):  # at once, without waiting again
                oracle.request("ping")
        oracle.close()
    finally:
        km.shutdown_kernel(now=True)


def test_a_session_the_kernel_will_not_serve_leaves_requests_to_execute(ipc_kernel):
    km, kc, oracle = ipc_kernel
    _run(kc, "import _nnlab_oracle as _o\n_saved_session = _o.session\n_o.session = None")
    try:
        with oracle.serving():
            assert not oracle._in_session
            assert oracle.request("ping") == "pong"
            a = np.zeros(2)
            oracle.lookup("inc")(a)
            assert a.tolist() == [1.0, 1.0]  # in-place writes come back this way too
    finally:
        _run(kc, "_o.session = _saved_session")
    assert oracle.side is None  # this oracle asks no more sessions of that kernel
    assert oracle.request("ping") == "pong"


def test_a_session_serves_what_the_student_left_as_the_server(tmp_path):
    # The session answers with the module's `serve`, which student code can replace: the
    # forged answers are refused there exactly as over execute requests.
    km, kc = _kernel(transport="ipc", ip=str(tmp_path / "k"))
    try:
        oracle = _started(km, kc)
        _run(kc, "import _nnlab_oracle as _o\n"
                 "_o.serve = lambda text: _o.Reply('{\"ok\": {\"v\": 1e308}, \"exc\": 5}')")
        with oracle.serving():
            assert oracle._in_session
            with pytest.raises(StudentError):
                oracle.request("ping")
            with pytest.raises((CheckFailed, StudentError)):
                REGISTRY["check_sigmoid"](oracle.lookup(_first("check_sigmoid")))
        oracle.close()
    finally:
        km.shutdown_kernel(now=True)


def test_ipc_transport(tmp_path):
    km, kc = _kernel(transport="ipc", ip=str(tmp_path / "kernel"))
    try:
        oracle = Oracle(km.get_connection_info(), interrupt=km.interrupt_kernel)
        oracle.start()
        assert km.get_connection_info()["transport"] == "ipc"
        _run(kc, "def twice(a):\n    return 2 * a\n")
        assert oracle.lookup("twice")(np.ones(2)).tolist() == [2.0, 2.0]
        oracle.close()
    finally:
        km.shutdown_kernel(now=True)


def test_the_boot_installs_the_stub_checks(kernel):
    _, kc, oracle = kernel
    _run(kc, "import nnlab.checks as _c\n_c.check_sigmoid(None, hidden=True)")
    info = oracle.stubs(["check_sigmoid"], 0)
    assert info["stub"] is True
    assert ["check_sigmoid", "NoneType", [["hidden", "True"]]] in info["calls"]
    json.dumps(info)  # plain data only


def test_a_test_cells_stub_calls_are_told_from_other_cells(kernel):
    # The judge compares a test cell's own calls with its verdict: a demonstration cell's
    # calls before it (or a thread's, in another cell) carry another execution count.
    _, kc, oracle = kernel
    since = oracle.stubs([], 0)["count"]
    _run(kc, "import nnlab.checks as _c\n_c.check_tanh(1, hidden=False)")
    _run(kc, "_c.check_relu(2.0)\n_c.check_relu(3.0, hidden=True)")
    oracle.request("ping")  # a silent request between the cell and the question
    calls = oracle.stubs(["check_relu"], since, last=True)["calls"]
    assert calls == [["check_relu", "float", []], ["check_relu", "float", [["hidden", "True"]]]]
    assert len(oracle.stubs([], since)["calls"]) == 3  # without a cell: every call since


"""Tests of apigen.emit_python, the Python package generated from the model
(flatuv/__init__.py, its stubs, python_api.i).

    python3 -m pytest -q bindings/apigen/tests/test_emit_python.py

These test the generator from the real interface, without building the C
module: the source it writes compiles and has the members, signatures,
properties and docstrings the rules give; and imported over a stand-in of
the SWIG module that records each call, every conversion reaches C as the
rule says. python/tests tests the package users get; test_emit_python_
shapes.py a header with functions added.
"""

import ast
import importlib
import os
import re
import sys
import textwrap

import pytest

from apigen import (emit_python, emit_roles, python_docs, python_names,
                    python_plan, python_raw, python_stub, python_swig)
from apigen.python_overrides import Overrides
from apigen.swigxml import ApigenError

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
OVERRIDES = os.path.join(ROOT, "python", "flatuv", "_overrides.py")
API_I = os.path.join(ROOT, "swig", "api.i")


@pytest.fixture(scope="module")
def plan(api):
    return python_plan.Plan(api, emit_python.load_overrides(api, OVERRIDES))


@pytest.fixture(scope="module")
def source(plan):
    return emit_python.module_text(plan)


@pytest.fixture(scope="module")
def tree(source):
    return ast.parse(source)


def classes(tree):
    return {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}


def members(cls):
    """{name: [nodes]} of a class body (a property's getter and setter)."""
    out = {}
    for node in cls.body:
        if isinstance(node, ast.FunctionDef):
            out.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.Assign):
            out.setdefault(node.targets[0].id, []).append(node)
    return out


def signature(node):
    args = node.args
    names = [a.arg for a in args.args]
    defaults = [None] * (len(names) - len(args.defaults)) + [
        ast.unparse(d) for d in args.defaults]
    return ["%s=%s" % (n, d) if d else n for n, d in zip(names, defaults)]


# ---- the source --------------------------------------------------------------

def test_the_module_compiles_and_keeps_the_package_surface(source, tree):
    compile(source, "flatuv/__init__.py", "exec")
    found = classes(tree)
    for name in ("Loop", "Handle", "Stream", "TCP", "Timer", "Async", "Error",
                 "RunMode", "HandleType", "TCPState"):
        assert name in found, name
    assert [ast.unparse(b) for b in found["TCP"].bases] == ["Stream"]
    assert [ast.unparse(b) for b in found["Handle"].bases] == ["_HandleBase"]
    assert [ast.unparse(b) for b in found["RunMode"].bases] == ["_enum.IntEnum"]
    names = {t.id for n in tree.body if isinstance(n, ast.Assign)
             for t in n.targets if isinstance(t, ast.Name)}
    assert {"__all__", "__version__", "C_API", "errorcode", "RUN_DEFAULT",
            "TCP_IPV6ONLY", "AF_INET6", "SOCK_STREAM", "NONBLOCK_PIPE",
            "ECONNREFUSED", "EOF"} <= names
    # A bound, not a code; a member of a class only.
    assert "ERRNO_MAX" not in names and "TCP_ESTABLISHED" not in names


def test_methods_and_signatures_by_rule(tree):
    found = classes(tree)
    sig = {(c, m): signature(nodes[0]) for c in ("Loop", "Handle", "Stream", "TCP",
                                                 "Timer", "Async")
           for m, nodes in members(found[c]).items()
           if isinstance(nodes[0], ast.FunctionDef)}
    assert sig["Stream", "listen"] == ["self", "callback=None", "backlog=128"]
    assert sig["Timer", "start"] == ["self", "callback", "timeout", "repeat=0.0"]
    assert sig["Stream", "set_water_marks"] == ["self", "high", "low=0", "callback=None"]
    assert sig["Stream", "recv"] == ["self", "size", "timeout=None"]
    assert sig["TCP", "nodelay"] == ["self", "enable=True"]
    assert sig["TCP", "keepalive_ex"] == ["self", "enable", "idle=0", "interval=0", "count=0"]
    assert sig["TCP", "bind"] == ["self", "address", "flags=0"]
    assert sig["TCP", "connect_sync"] == ["self", "address", "timeout=None"]
    assert sig["Loop", "run"] == ["self", "mode=RunMode.DEFAULT"]
    assert sig["Loop", "close"] == ["self"]
    assert sig["Async", "__init__"] == ["self", "loop", "callback"]
    assert sig["TCP", "__init__"] == ["self", "loop", "family=AF_UNSPEC"]  # override
    functions = {n.name: signature(n) for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert functions["ip4_addr"] == ["ip", "port"]
    assert functions["socketpair"] == ["type=SOCK_STREAM", "protocol=0", "flags0=0",
                                       "flags1=0"]
    assert functions["err_name"] == ["code"]
    assert functions["handle_type_name"] == ["handle_type"]
    # Hidden functions are not bound.
    assert "get_data" not in members(found["Loop"])


def _decorators(node):
    return [ast.unparse(d) for d in node.decorator_list]


def test_properties(tree):
    found = classes(tree)
    for cls, name in [("Handle", "active"), ("Handle", "closing"), ("Handle", "type"),
                      ("Stream", "readable"), ("Stream", "writable"),
                      ("Stream", "congested"), ("Stream", "write_queue_size"),
                      ("Timer", "due_in")]:
        nodes = members(found[cls])[name]
        assert [_decorators(n) for n in nodes] == [["property"]], (cls, name)
    repeat = members(found["Timer"])["repeat"]
    assert [_decorators(n) for n in repeat] == [["property"], ["repeat.setter"]]
    assert "set_repeat" not in members(found["Timer"])
    assert "is_active" not in members(found["Handle"])
    # A predicate with a name other than is_X stays a method.
    assert "has_ref" in members(found["Handle"])


def test_docstrings_say_the_header_the_conversions_and_the_c_call(api, tree):
    found = classes(tree)
    start = ast.get_docstring(members(found["Timer"])["start"][0])
    assert start.startswith(api.function("fuv_timer_start").doc.split("\n")[0])
    assert "Python: timeout and repeat are in seconds." in " ".join(start.split())
    assert start.rstrip().endswith(
        "C: int fuv_timer_start(fuv_timer_t *timer, fuv_timer_cb cb, uint64_t timeout_ms, "
        "uint64_t repeat_ms, void *arg)")
    connect_sync = " ".join(ast.get_docstring(members(found["TCP"])["connect_sync"][0]).split())
    assert "timeout is in seconds; None waits for ever." in connect_sync
    assert "address is (host, port)" in connect_sync
    read = ast.get_docstring(members(found["Stream"])["read_start"][0])
    assert "Callback typedef void (*fuv_read_cb)" in read
    assert "callback(stream, data, error)" in read
    # An override's own text, then the header's, then the C calls.
    init = ast.get_docstring(members(found["TCP"])["__init__"][0])
    assert init.startswith("Creates the handle on loop.")
    assert "C: int fuv_tcp_new(" in init and "C: int fuv_tcp_new_ex(" in init
    for name, nodes in members(found["Stream"]).items():
        if isinstance(nodes[0], ast.FunctionDef) and not name.startswith("_"):
            assert "\nC: " in ast.get_docstring(nodes[0]), name


def test_the_docstring_quoting_reads_back_any_text():
    text = 'A "quote", a backslash \\n, three """ and a last "'
    ns = {}
    exec("def f():\n" + python_docs.quote(text, "    ") + "\n", ns)
    assert ns["f"].__doc__ == text


def test_c_api_maps_every_function(api, plan):
    assert list(plan.c_api) == [f.cname for f in api.functions]
    assert plan.c_api["fuv_timer_set_repeat"] == "Timer.repeat"
    assert plan.c_api["fuv_is_active"] == "Handle.active"
    assert plan.c_api["fuv_tcp_new_ex"] == "TCP.__init__"
    assert plan.c_api["fuv_write"] == "Stream.write"
    assert plan.c_api["fuv_handle_loop"] == "Handle.loop"
    assert plan.c_api["fuv_ip4_addr"] == "ip4_addr"
    assert plan.c_api["fuv_loop_get_data"].startswith("Loop.data")


def test_overrides_are_few_have_reasons_and_match_the_interface(api, plan):
    wrappers = plan.overrides.wrappers()
    assert 0 < len(wrappers) <= 10
    for cls, member in wrappers:
        assert member.why.strip() and "\n" not in member.why, member
        for cname in member.cnames:
            api.function(cname)  # raises for a name the header lacks
    marked = sorted(c for _, m in wrappers for c in m.cnames)
    annotated = sorted(f.cname for f in api.functions if f.overridden_in("python"))
    assert marked == annotated


def test_an_override_replaces_the_generated_member(api):
    text = textwrap.dedent('''
        """Doc."""
        class Handle:
            @override("fuv_has_ref", why="a test")
            def has_ref(self) -> bool:
                return True
        class TCP:
            @override("fuv_tcp_new", "fuv_tcp_new_ex", why="two constructors")
            def __init__(self, loop: Loop) -> None:
                _lib.fuv_tcp_new(self, loop)
        class UDP:
            @override("fuv_udp_new", "fuv_udp_new_ex", why="two constructors")
            def __init__(self, loop: Loop) -> None:
                _lib.fuv_udp_new(self, loop)
    ''')
    ov = Overrides("test.py", [python_names.class_name(k) for k in api.classes], text)
    plan = python_plan.Plan(api, ov)
    handle = [c for c in plan.classes if c.name == "Handle"][0]
    kinds = [(m.name, m.kind) for m in handle.members if m.name == "has_ref"]
    assert kinds == [("has_ref", "override")]
    source = emit_python.module_text(plan)
    assert "return True" in source and "@override" not in source
    with pytest.raises(ApigenError):
        Overrides("test.py", ["Handle"], 'class Handle:\n'
                  '    @override("fuv_has_ref")\n    def has_ref(self): pass\n')


def test_a_class_with_several_constructors_needs_an_override(api):
    ov = Overrides("test.py", [python_names.class_name(k) for k in api.classes],
                   '"""Doc."""\n')
    with pytest.raises(ApigenError, match="TCP has several constructors"):
        python_plan.Plan(api, ov)


def test_long_calls_are_wrapped():
    line = "        _lib.fuv_tcp_keepalive_ex(self, 1 if enable else 0, " \
           "_whole_seconds(idle, \"idle\"), _whole_seconds(interval, \"interval\"), count)"
    wrapped = emit_python.wrap_call(line)
    assert all(len(l) <= 79 for l in wrapped)
    assert " ".join(l.strip() for l in wrapped) == line.strip()


# ---- the stubs -------------------------------------------------------------------

def test_the_stub_types_every_member(plan):
    stub = python_stub.stub_text(plan)
    tree = ast.parse(stub)
    found = classes(tree)
    text = {name: ast.unparse(node) for name, node in found.items()}
    assert "def read_start(self, callback: Callable[[Self, Optional[bytes], " \
           "Optional[Error]], object]) -> None" in text["Stream"]
    assert "def walk(self, callback: Callable[[Handle], object]) -> None" in text["Loop"]
    assert "def backend_timeout(self) -> Optional[float]" in text["Loop"]
    assert "@property\n    def active(self) -> bool" in text["Handle"]
    assert "@repeat.setter\n    def repeat(self, repeat: float) -> None" in text["Timer"]
    assert "def get_linger(self) -> Tuple[bool, int]" in text["TCP"]
    assert "def accept(self, client: Optional[Stream]=...) -> Self" in text["Stream"]
    assert "def __init__(self, loop: Loop, family: int=...) -> None" in text["TCP"]
    assert "def state(self) -> TCPState" in text["TCP"]
    assert "UNKNOWN = 0" in text["HandleType"]
    # Any only for the user's own data.
    assert [l.strip() for l in stub.split("\n") if "Any" in l and "import" not in l] == [
        "data: Any", "data: Any"]
    for cls in ("Loop", "Handle", "Stream", "TCP", "Timer", "Async"):
        assert re.search(r"class %s\(" % cls, stub)


def test_the_raw_stub_has_every_function_positional(api):
    stub = python_raw.raw_stub_text(api)
    tree = ast.parse(stub)
    defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    bound = [f.cname for f in api.functions if f.bound_in("python")]
    assert set(bound) <= set(defs)
    assert "fuv_loop_get_data" not in defs
    assert ast.unparse(defs["fuv_tcp_bind"].args) == \
        "tcp: HandleBase, ip: str, port: int, flags: int, /"
    assert ast.unparse(defs["fuv_run"].returns) == "bool"
    assert "FUV_ERRNO_MAX: int" in stub and "FUV_IP_NAME_MAX: int" in stub


# ---- python_api.i ------------------------------------------------------------------

def test_python_api_i_comes_from_the_model(api):
    text = python_swig.text(api)
    assert "FUVPY_HANDLE_ARG(fuv_handle_t, FUVPY_ANY_HANDLE)" in text
    assert "FUVPY_HANDLE_ARG(fuv_stream_t, ((1u << FUV_TCP) | (1u << FUV_PIPE)))" in text
    assert "FUVPY_NEW_HANDLE(fuv_timer_t, FUV_TIMER)" in text
    assert "%ignore fuv_handle_set_data;" in text
    assert "FUVPY_BLOCKING(fuv_accept_sync)" in text
    assert "FUVPY_BLOCKING(fuv_tcp_bind)" not in text
    # The parameter groups are every language's, in roles.i.
    assert "%apply (int *INT_OUT1" not in text
    assert "%typemap(out) int FUV_ENUM_fuv_tcp_state_t = int FUV_COUNT;" in text
    assert '%feature("docstring") fuv_recv "C: int fuv_recv(' in text
    for pattern in emit_roles.role_lists(api):
        assert pattern.split()[0]  # every role pattern has a type


def test_c_declarations_of_swig_types():
    assert python_swig.c_decl("p.q(const).p.q(const).char", "bufs") == \
        "const char *const *bufs"
    assert python_swig.c_decl("p.int", "port") == "int *port"
    assert python_swig.c_decl("size_t", "len") == "size_t len"
    assert python_swig.c_decl("p.q(const).struct sockaddr", "addr") == \
        "const struct sockaddr *addr"


# ---- the conversions, over a stand-in of the SWIG module -------------------------

FAKE_LIB = '''
"""Records each call of a raw function; RESULTS gives what it returns (a
callable is called with the arguments)."""
CALLS = []
RESULTS = {}


class LoopBase:
    closed = False


class HandleBase:
    closed = False

    def _stream_write(self, data, callback=None):
        CALLS.append(("fuv_write", (self, data, callback)))


def _set_error_factory(factory, namer=None):
    global make_error, name_error
    make_error, name_error = factory, namer


def _set_write_general(general):
    pass


class RequestBase:
    pass


def _set_request_class(cls):
    pass


def _call(name):
    def call(*args):
        CALLS.append((name, args))
        result = RESULTS.get(name, 0)
        return result(*args) if callable(result) else result
    return call


def __getattr__(name):
    if name.startswith("fuv_"):
        return _call(name)
    raise AttributeError(name)
'''


@pytest.fixture(scope="module")
def pkg(api, source, tmp_path_factory):
    root = tmp_path_factory.mktemp("fakepkg")
    package = root / "flatuv_fake"
    package.mkdir()
    constants = "\n".join("%s = %d" % (c.cname, c.value) for c in api.constants)
    (package / "_flatuv.py").write_text(FAKE_LIB + "\n" + constants + "\n")
    (package / "__init__.py").write_text(source)
    sys.path.insert(0, str(root))
    try:
        module = importlib.import_module("flatuv_fake")
    finally:
        sys.path.remove(str(root))
    module._lib.RESULTS.update({
        "fuv_err_name": lambda code: module.errorcode.get(code, "UNKNOWN"),
        "fuv_strerror": lambda code: "message",
    })
    return module


def last_call(pkg):
    return pkg._lib.CALLS[-1]


def test_durations_flags_and_addresses_reach_c_converted(pkg):
    loop = pkg.Loop()
    assert last_call(pkg) == ("fuv_loop_new", (loop,))
    timer = pkg.Timer(loop)
    cb = lambda t: None  # noqa: E731
    timer.start(cb, 0.005)
    assert last_call(pkg) == ("fuv_timer_start", (timer, cb, 5, 0))
    timer.start(cb, 1, repeat=0.0001)
    assert last_call(pkg)[1][2:] == (1000, 1)  # rounded up, never to 0
    timer.repeat = 2.5
    assert last_call(pkg) == ("fuv_timer_set_repeat", (timer, 2500))
    for bad in (True, "1", -1, float("nan")):
        with pytest.raises((TypeError, ValueError)):
            timer.start(cb, bad)
    with pytest.raises(TypeError):
        timer.start(None, 1)
    tcp = pkg.TCP(loop)
    assert last_call(pkg) == ("fuv_tcp_new", (tcp, loop))
    pkg.TCP(loop, pkg.AF_INET6)
    assert last_call(pkg)[0] == "fuv_tcp_new_ex"
    tcp.nodelay()
    assert last_call(pkg) == ("fuv_tcp_nodelay", (tcp, 1))
    tcp.keepalive([], 1.2)
    assert last_call(pkg) == ("fuv_tcp_keepalive", (tcp, 0, 2))
    tcp.bind(("fe80::1", 80, 0, 3))
    assert last_call(pkg) == ("fuv_tcp_bind", (tcp, "fe80::1%3", 80, 0))
    with pytest.raises(TypeError):
        tcp.bind(["127.0.0.1", 80])
    tcp.connect_sync(("127.0.0.1", 9))
    assert last_call(pkg) == ("fuv_tcp_connect_sync", (tcp, "127.0.0.1", 9, -1))
    tcp.send(b"x", timeout=0.25)
    assert last_call(pkg) == ("fuv_send", (tcp, b"x", 250))
    tcp.listen(cb)
    assert last_call(pkg) == ("fuv_listen", (tcp, 128, cb))
    tcp.set_water_marks(10)
    assert last_call(pkg) == ("fuv_stream_set_water_marks", (tcp, 10, 0, None))
    tcp.write(b"data")
    assert last_call(pkg) == ("fuv_write", (tcp, b"data", None))
    pkg.ip4_addr("127.0.0.1", 80)
    assert last_call(pkg) == ("fuv_ip4_addr", ("127.0.0.1", 80))


def test_results_come_back_by_role(pkg):
    lib = pkg._lib
    loop = pkg.Loop()
    tcp = pkg.TCP(loop)
    lib.RESULTS["fuv_backend_timeout"] = -1
    assert loop.backend_timeout() is None
    lib.RESULTS["fuv_backend_timeout"] = 1500
    assert loop.backend_timeout() == 1.5
    lib.RESULTS["fuv_backend_timeout"] = pkg.EINVAL
    with pytest.raises(pkg.Error) as info:
        loop.backend_timeout()
    assert info.value.name == "EINVAL"
    lib.RESULTS["fuv_now"] = 2500
    assert loop.now() == 2.5
    lib.RESULTS["fuv_tcp_get_linger"] = (1, 7)
    assert tcp.get_linger() == (True, 7)
    lib.RESULTS["fuv_tcp_state"] = pkg.TCPState.LISTEN.value
    assert tcp.state() is pkg.TCPState.LISTEN
    lib.RESULTS["fuv_handle_type"] = pkg.HandleType.TCP.value
    assert tcp.type is pkg.HandleType.TCP
    lib.RESULTS["fuv_accept"] = lambda server, client: client
    client = tcp.accept()
    assert type(client) is pkg.TCP and client is not tcp
    lib.RESULTS["fuv_stop"] = 0
    assert loop.stop() is None
    assert pkg.RUN_DEFAULT is pkg.RunMode.DEFAULT


def test_a_raised_error_names_its_call_and_its_address(pkg):
    # What the C extension does for every failed call (fuvpy_error_in).
    lib = pkg._lib
    assert lib.name_error is pkg._name_error
    assert pkg._CALL_ADDRESSES["fuv_tcp_bind"] == ((1, False),)
    assert pkg._CALL_ADDRESSES["fuv_ip4_addr"] == ((0, True),)
    loop = pkg.Loop()
    tcp = pkg.TCP(loop)
    err = pkg._make_error(pkg.EINVAL)
    assert str(err) == "[EINVAL] message"
    lib.name_error(err, "fuv_tcp_bind", (tcp, "999.1.1.1", 0, 0))
    assert str(err) == "TCP.bind(('999.1.1.1', 0)): [EINVAL] message"
    assert (err.errno, err.name, err.code, err.strerror) == (
        -pkg.EINVAL, "EINVAL", pkg.EINVAL, "message")
    # Named once: the innermost call's name stays.
    lib.name_error(err, "fuv_listen", (tcp, 1, None))
    assert str(err).startswith("TCP.bind(")
    # The object's own class, C_API's method; a spread address as given.
    err = pkg._make_error(pkg.ECONNREFUSED)
    lib.name_error(err, "fuv_write", (tcp, b"x", None))
    assert str(err) == "TCP.write: [ECONNREFUSED] message"
    assert isinstance(err, ConnectionRefusedError)
    err = pkg._make_error(pkg.EINVAL)
    lib.name_error(err, "fuv_ip4_addr", ("300.1.1.1", 1))
    assert str(err) == "ip4_addr('300.1.1.1', 1): [EINVAL] message"
    # Anything else is left alone.
    other = TypeError("x")
    lib.name_error(other, "fuv_tcp_bind", (tcp, "1", 2, 0))
    assert str(other) == "x"


def test_the_overrides_are_spliced_in(pkg):
    lib = pkg._lib
    loop = pkg.Loop()
    tcp = pkg.TCP(loop)

    def closed(handle):
        raise pkg._make_error(pkg.EINVAL)

    lib.RESULTS["fuv_is_closing"] = closed
    assert tcp.closing is False
    assert issubclass(pkg._make_error(pkg.ECONNREFUSED).__class__, ConnectionRefusedError)
    assert pkg.Stream.write is pkg._HandleBase._stream_write
    assert lib.make_error is pkg._make_error
    with loop as entered:
        assert entered is loop

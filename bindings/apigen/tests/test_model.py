"""Tests of apigen.model: what the rules and swig/api.i make of flatuv.h."""

from apigen import emit_roles, model, roles


def method(api, cname):
    func = api.function(cname)
    assert func.is_method, cname
    return func


def test_methods_belong_to_the_object_of_their_first_parameter(api):
    assert api.function("fuv_tcp_bind").klass.name == "TCP"
    assert api.function("fuv_listen").klass.name == "Stream"
    assert api.function("fuv_close").klass.name == "Handle"
    assert api.function("fuv_run").klass.name == "Loop"
    assert api.function("fuv_ip4_addr").klass is None


def test_the_hierarchy_comes_from_the_annotations(api):
    tcp = api.klass("fuv_tcp_t")
    assert [k.name for k in tcp.ancestors] == ["Stream", "Handle"]
    assert tcp.kind.cname == "FUV_TCP"
    assert api.klass("fuv_loop_t").kind is None


def test_names_lose_the_prefix_and_the_object_words(api):
    names = {f.cname: f.name for f in api.functions}
    assert names["fuv_tcp_bind"] == "bind"
    assert names["fuv_stream_set_water_marks"] == "set_water_marks"
    assert names["fuv_handle_type"] == "type"
    assert names["fuv_loop_alive"] == "alive"
    assert names["fuv_timer_get_repeat"] == "get_repeat"
    assert names["fuv_loop_free"] == "close"       # annotated
    assert names["fuv_tcp_state_name"] == "tcp_state_name"  # no object


def test_constructors(api):
    tcp = api.klass("fuv_tcp_t")
    assert [f.cname for f in tcp.constructors] == ["fuv_tcp_new", "fuv_tcp_new_ex"]
    new = api.function("fuv_async_new")
    assert [a.role for a in new.inputs] == ["object", "callback"]
    assert not new.inputs[1].optional


def test_result_roles(api):
    role = {f.cname: f.result.role for f in api.functions}
    assert role["fuv_tcp_bind"] == roles.STATUS
    assert role["fuv_is_active"] == roles.PREDICATE
    assert role["fuv_stream_is_congested"] == roles.PREDICATE
    assert role["fuv_loop_alive"] == roles.PREDICATE      # annotated
    assert role["fuv_fileno"] == roles.COUNT              # getter of a const object
    assert role["fuv_tcp_detach"] == roles.COUNT          # annotated
    assert role["fuv_tcp_getsockname"] == roles.STATUS    # returns its outputs
    assert role["fuv_now"] == roles.VALUE
    assert api.function("fuv_now").result.unit == "ms"
    assert role["fuv_handle_type"] == roles.ENUM
    assert api.function("fuv_tcp_state").result.enum.cname == "fuv_tcp_state_t"
    assert role["fuv_version_string"] == roles.STRING


def test_parameter_roles_and_defaults(api):
    bind = api.function("fuv_tcp_bind")
    assert [(a.role, a.default) for a in bind.inputs] == [
        ("address", None), ("int", "0")]
    start = api.function("fuv_timer_start")
    assert [(a.role, a.name, a.default) for a in start.inputs] == [
        ("callback", "cb", None), ("duration_ms", "timeout_ms", None),
        ("duration_ms", "repeat_ms", "0")]
    listen = api.function("fuv_listen")
    assert [(a.role, a.default) for a in listen.inputs] == [
        ("int", "128"), ("callback", "NULL")]
    assert [a.role for a in api.function("fuv_tcp_getsockname").outputs] == [
        "address_out"]
    assert [a.role for a in api.function("fuv_accept").outputs] == ["new_object"]
    assert api.function("fuv_accept").outputs[0].klass.name == "TCP"
    assert [a.role for a in api.function("fuv_send").inputs] == [
        "bytes", "timeout_ms"]
    assert api.function("fuv_tcp_nodelay").inputs[0].role == "flag"


def test_hidden_functions(api):
    assert not api.function("fuv_loop_get_data").bound_in("python")
    assert api.function("fuv_tcp_bind").bound_in("lua")


def test_enums_and_annotated_names(api):
    used = {e.cname for e in api.enums if e.used}
    assert {"fuv_run_mode_t", "fuv_handle_type_t", "fuv_tcp_state_t"} <= used
    state = api.klass  # noqa: F841 (the class lookup exists too)
    enum = [e for e in api.enums if e.cname == "fuv_tcp_state_t"][0]
    assert model.feature(enum, "python:name") == "TCPState"
    assert model.hidden_in(api.constant("FUV_HANDLE_TYPE_MAX"), "python")


def test_roles_i_lists_every_non_status_int(api):
    lists = emit_roles.role_lists(api)
    assert "fuv_is_active" in lists["int FUV_PREDICATE"]
    assert "fuv_tcp_getsockname" in lists["int FUV_OUTPUTS"]
    assert "fuv_tcp_new" in lists["int FUV_OUTPUTS"]
    assert "fuv_fileno" in lists["int FUV_COUNT"]
    assert "fuv_tcp_bind" not in sum(lists.values(), [])
    assert lists["int FUV_ENUM_fuv_tcp_state_t"] == ["fuv_tcp_state"]


def test_roles_i_applies_each_parameter_group_by_its_types(api):
    text = emit_roles.text(api)
    assert "%apply (int *INT_OUT1, int *INT_OUT2) {\n  (int *fd0, int *fd1),\n" \
           "  (int *on, int *seconds),\n  (int *read_fd, int *write_fd)\n};" in text
    assert "%apply struct sockaddr_in6 *SOCKADDR_OUT {\n  struct sockaddr_in6 *addr\n};" in text
    assert "%apply (const char *BYTES, size_t LENGTH) {\n  (const char *data, size_t len)\n};" in text


def test_handle_classes_are_the_hierarchy_under_handle(api):
    assert [k.name for k in api.handle_classes] == [
        "Handle", "Stream", "TCP", "Timer", "Async", "Pipe", "Prepare", "Check",
        "Idle", "UDP"]


# ---- issue 12: the new header's shapes, by rule ---------------------------------

def test_uint64_out_parameters_are_outputs(api):
    func = api.function("fuv_metrics_info")
    assert [a.role for a in func.outputs] == ["uint64_out"] * 3
    assert func.inputs == [] and func.result.role == roles.STATUS


def test_a_name_with_its_length_is_one_argument(api):
    bind = api.function("fuv_pipe_bind2")
    assert bind.name == "bind" and [a.role for a in bind.inputs] == ["name"]
    assert [p.name for p in bind.inputs[0].params] == ["name", "namelen", "flags"]
    connect = api.function("fuv_pipe_connect2")
    assert connect.name == "connect"
    assert [a.role for a in connect.inputs] == ["name", "callback"]
    assert connect.inputs[1].optional
    # The C-string forms stay C's.
    assert not api.function("fuv_pipe_bind").bound_in("python")


def test_a_name_out_group_is_one_output(api):
    func = api.function("fuv_pipe_getsockname")
    assert [a.role for a in func.outputs] == ["name_out"]
    assert func.inputs == []


def test_a_request_is_an_object_but_no_handle(api):
    req = api.klass("fuv_req_t")
    assert req.request and req.base is None
    assert req not in api.handle_classes
    assert [f.name for f in req.methods] == ["cancel", "type", "release"]
    write = api.function("fuv_write_req")
    assert write.klass is api.klass("fuv_stream_t")
    assert [a.role for a in write.outputs] == ["request_out"]
    assert write.outputs[0].klass is req
    assert api.function("fuv_req_release").result.role == roles.NONE


def test_calls_without_arguments_and_optional_enums(api):
    hrtime = api.function("fuv_hrtime")
    assert hrtime.args == [] and hrtime.result.role == roles.VALUE
    mode = api.function("fuv_loop_mode")
    assert mode.result.role == roles.ENUM_OR_NONE
    assert mode.result.enum.cname == "fuv_run_mode_t"
    pipe = api.function("fuv_pipe")
    assert [a.role for a in pipe.outputs] == ["int_pair_out"]
    assert [a.default for a in pipe.inputs] == ["0", "0"]
    new = api.function("fuv_pipe_new")
    assert [(a.role, a.default) for a in new.inputs][-1] == ("flag", "0")


def test_roles_i_applies_the_new_groups(api):
    text = emit_roles.text(api)
    assert "%apply uint64_t *UINT64_OUT {" in text
    assert "%apply (const char *NAME, size_t NAME_LENGTH, unsigned int NAME_FLAGS) {" in text
    assert "%apply fuv_req_t **REQUEST_OUT {\n  fuv_req_t **req\n};" in text
    assert "%apply int FUV_ENUM_OR_NONE_fuv_run_mode_t {\n  int fuv_loop_mode\n};" in text


class _Decl:
    def __init__(self, cname, value):
        self.cname, self.value, self.value_int = cname, str(value), value
        self.features = {}


def test_a_bound_is_a_max_item_beyond_the_others():
    enum = model.Enum.__new__(model.Enum)
    enum.items = []
    for cname, value in (("FUV_A", 0), ("FUV_B", 1), ("FUV_WIDTH_MAX", 1),
                         ("FUV_KIND_MAX", 2), ("FUV_LOW_MAX", -7)):
        enum.items.append(model.Constant(_Decl(cname, value), None, enum))
    bounds = [c.cname for c in enum.items if c.is_bound]
    # A *_MAX equal to another item is a value (a maximum one may pass).
    assert bounds == ["FUV_KIND_MAX", "FUV_LOW_MAX"]
    assert model.hidden_in(enum.items[3], "lua")
    assert not model.hidden_in(enum.items[2], "lua")


def test_the_header_bounds_are_hidden_by_rule(api):
    for cname in ("FUV_ERRNO_MAX", "FUV_HANDLE_TYPE_MAX"):
        const = api.constant(cname)
        assert const.is_bound and not const.features.get("hidden")
        for language in model.LANGUAGES:
            assert model.hidden_in(const, language)
    assert not api.constant("FUV_IP_NAME_MAX").is_bound   # not an enum's


def test_udp_calls_get_their_natural_shape(api):
    f = api.function
    # (ip, port) where ip may be NULL: none, optional.
    for cname in ("fuv_udp_connect", "fuv_udp_send_req", "fuv_udp_try_send",
                  "fuv_udp_try_send_many", "fuv_udp_send_sync"):
        address = [a for a in f(cname).args if a.role == "address"][0]
        assert address.optional, cname
    bind = [a for a in f("fuv_udp_bind").args if a.role == "address"][0]
    assert not bind.optional
    assert [a.role for a in f("fuv_udp_try_send_many").inputs] == [
        "buffers", "address"]
    assert f("fuv_udp_try_send").result.role == "count"
    # recv_sync: the bytes and the sender out.
    assert [a.role for a in f("fuv_udp_recv_sync").outputs] == [
        "recv_buffer", "address_out"]
    assert [a.role for a in f("fuv_udp_recv_dest").outputs] == ["address_out"]
    assert [a.role for a in f("fuv_udp_send_req").outputs] == ["request_out"]
    membership = f("fuv_udp_set_membership").inputs[-1]
    assert membership.role == "enum" and membership.enum.cname == "fuv_membership_t"
    assert f("fuv_udp_using_recvmmsg").result.role == "predicate"
    for cname in ("fuv_udp_bind_addr", "fuv_udp_send_addr", "fuv_sockaddr_ip",
                  "fuv_udp_try_send_many_addr"):
        assert not any(f(cname).bound_in(lang) for lang in ("python", "lua", "nim"))

"""Tests of apigen.emit_lua: luv's names for every function and method, and
lua_api.i, what swig/lua.i takes from the model."""

from apigen import emit_lua


def test_module_functions_keep_their_c_names_without_the_prefix(api):
    functions, _, _ = emit_lua.tables(api)
    assert functions["tcp_bind"] == "tcp_bind"
    assert functions["is_active"] == "is_active"
    assert functions["run"] == "run"


def test_constructors_are_new_word_with_the_most_parameters(api):
    functions, _, _ = emit_lua.tables(api)
    assert functions["new_tcp"] == "tcp_new_ex"
    assert functions["new_timer"] == "timer_new"
    assert functions["new_async"] == "async_new"


def test_methods_by_class_with_bases(api):
    _, methods, bases = emit_lua.tables(api)
    assert methods["tcp"]["bind"] == "tcp_bind"
    assert methods["stream"]["set_water_marks"] == "stream_set_water_marks"
    assert methods["handle"]["close"] == "close"
    assert "loop" not in methods          # one loop per state: uv.* only
    assert bases == {"stream": "handle", "tcp": "stream", "timer": "handle",
                     "async": "handle", "pipe": "stream", "prepare": "handle",
                     "check": "handle", "idle": "handle", "udp": "handle"}
    # A request is no handle: its own methods, no base.
    assert methods["req"] == {"cancel": "cancel", "get_type": "req_type"}
    assert "req" not in bases


def test_hidden_functions_are_left_out(api):
    functions, methods, _ = emit_lua.tables(api)
    assert "loop_get_data" not in functions
    assert "get_data" not in methods["handle"]
    # Lua only (fuv:lua:hidden): the state owns its loop.
    assert "loop_new" not in functions and "new_loop" not in functions
    assert "handle_loop" not in functions
    assert "loop" not in methods["handle"]


def test_luv_names_and_aliases(api):
    functions, methods, _ = emit_lua.tables(api)
    assert functions["loop_close"] == "loop_free"
    assert "loop_free" not in functions
    assert functions["handle_get_type"] == functions["get_type"] == "handle_type"
    assert methods["handle"]["get_type"] == "handle_type"
    assert functions["stream_get_write_queue_size"] == "write_queue_size"
    assert methods["stream"]["get_write_queue_size"] == "write_queue_size"
    # write takes a string or a table: fuv_writev; fuv_write is not bound.
    assert functions["write"] == functions["writev"] == "writev_req"
    assert methods["stream"]["write"] == "writev_req"
    assert "writev" not in methods["stream"]


def test_overridden_functions_are_left_to_the_overrides(api):
    functions, methods, _ = emit_lua.tables(api)
    assert emit_lua.overridden(api) == [
        "accept", "metrics_info", "pipe", "print_active_handles",
        "print_all_handles", "socketpair", "timer_start", "udp_new_ex"]
    assert "timer_start" not in functions and "socketpair" not in functions
    # luv's new_udp([flags]) takes a family or a table: written by hand.
    assert "new_udp" not in functions and "udp_new" in functions
    assert "start" not in methods["timer"]


def test_the_text_is_a_lua_table(api):
    text = emit_lua.text(api)
    assert text.startswith("-- Generated")
    assert 'new_tcp = "tcp_new_ex",' in text
    assert 'objects = { "tcp", "timer", "async", "pipe", "prepare", "check", ' \
        '"idle", "udp" },' in text
    assert 'requests = { "req" },' in text
    assert 'socketpair' in text.split("overridden = ")[1]


def test_held_classes_and_masks(api):
    assert [k.word for k in emit_lua.held_classes(api)] == [
        "tcp", "timer", "async", "pipe", "prepare", "check", "idle", "udp"]
    handle = api.klass("fuv_handle_t")
    stream = api.klass("fuv_stream_t")
    assert emit_lua.class_mask(api, handle) == "(%s)" % " | ".join(
        "(1u << %d)" % i for i in range(1, 9))
    assert emit_lua.class_mask(api, stream) == "((1u << 1) | (1u << 4))"
    assert emit_lua.expected_name(api, stream) == "flatuv stream"
    assert emit_lua.expected_name(api, api.klass("fuv_tcp_t")) == "flatuv.tcp"


def test_lua_api_i(api):
    text = emit_lua.swig_text(api)
    assert "%ignore fuv_loop_new;" in text
    assert "%ignore fuv_handle_set_data;" in text
    assert "%ignore fuv_write;" in text
    assert "%ignore fuv_tcp_bind;" not in text
    assert '"flatuv.tcp",' in text
    assert 'FUVLUA_HANDLE_TYPEMAPS(fuv_stream_t, ((1u << 1) | (1u << 4)), ' \
        '"flatuv stream")' in text
    assert "FUVLUA_NEW_HANDLE(fuv_async_t, 3)" in text


def test_callback_rows_follow_lifetime_and_owner(api):
    rows = {cb.cname: (owner, box) for cb, owner, box in emit_lua.callback_rows(api)}
    assert rows["fuv_timer_cb"] == ("arg1", "box1")         # persistent, a method's
    assert rows["fuv_async_cb"] == ("created1", "NULL")     # the constructor's new handle
    assert rows["fuv_walk_cb"] == ("NULL", "NULL")          # the loop's, scoped
    assert rows["fuv_write_cb"] == ("arg1", "NULL")         # a request: one-shot
    text = emit_lua.swig_text(api)
    assert "FUVLUA_ALWAYS_REGISTER(fuv_close_cb, FUV_BRIDGE_CLOSE_CB)" in text
    assert "FUVLUA_SCOPED(fuv_walk_cb, FUV_BRIDGE_WALK_CB)" in text
    assert "FUVLUA_CLEAR_ON_NIL(fuv_drain_cb, FUV_BRIDGE_DRAIN_CB)" in text
    assert "FUVLUA_CLEAR_ON_NIL(fuv_timer_cb" not in text   # never nil
    assert "FUVLUA_OPTIONAL(fuv_connect_cb)" in text
    assert "FUVLUA_OPTIONAL(fuv_read_cb)" not in text


def test_constants_are_enum_values_less_bounds_and_errno_apart(api):
    errno, constants = emit_lua.constant_names(api)
    assert "EOF" in errno and "UNKNOWN" in errno and "ECONNREFUSED" in errno
    assert "ERRNO_MAX" not in errno                  # the errno enum's bound
    assert "HANDLE_TYPE_MAX" not in constants        # another enum's bound
    for name in ("AF_INET", "SOCK_STREAM", "TCP_IPV6ONLY", "TCP_LISTEN"):
        assert name in constants
    # The loose #defines are C's: sizes and the version parts.
    assert "IP_NAME_MAX" not in constants and "VERSION_MAJOR" not in constants
    assert not set(errno) & set(constants)
    text = emit_lua.text(api)
    assert '  constants = { "UNKNOWN_HANDLE", ' in text


def test_udp_methods_are_luvs(api):
    functions, methods, _ = emit_lua.tables(api)
    udp = methods["udp"]
    # send is the *_req call (luv returns the request), the sockaddr forms
    # are C's.
    assert udp["send"] == "udp_send_req" and functions["udp_send"] == "udp_send_req"
    for name in ("bind", "connect", "try_send", "recv_start", "recv_stop",
                 "getsockname", "getpeername", "set_membership",
                 "set_source_membership", "set_multicast_loop",
                 "set_multicast_ttl", "set_multicast_interface",
                 "set_broadcast", "set_ttl", "get_send_queue_size",
                 "get_send_queue_count", "using_recvmmsg", "recv_sync",
                 "send_sync", "recv_dest", "set_tos", "set_gso", "set_gro"):
        assert name in udp, name
    assert not [n for n in udp if n.endswith("_addr")]


def test_nil_strings_where_the_call_takes_none(api):
    text = emit_lua.swig_text(api)
    assert "#define FUVLUA_NONE_udp_send_req_ip 1" in text
    assert "#define FUVLUA_NONE_udp_connect_ip 1" in text
    assert "#define FUVLUA_NONE_tcp_bind_ip 0" in text
    assert "#define FUVLUA_NONE_udp_bind_ip 0" in text
    assert "FUVLUA_NONE($symname, interface_addr)" in text

"""Tests of apigen.emit_lua: luv's names for every function and method."""

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


def test_methods_by_class_with_bases(api):
    _, methods, bases = emit_lua.tables(api)
    assert methods["tcp"]["bind"] == "tcp_bind"
    assert methods["stream"]["set_water_marks"] == "stream_set_water_marks"
    assert methods["handle"]["close"] == "close"
    assert "loop" not in methods          # one loop per state: uv.* only
    assert bases == {"stream": "handle", "tcp": "stream", "timer": "handle",
                     "async": "handle"}


def test_hidden_functions_are_left_out(api):
    functions, methods, _ = emit_lua.tables(api)
    assert "loop_get_data" not in functions
    assert "get_data" not in methods["handle"]


def test_the_text_is_a_lua_table(api):
    text = emit_lua.text(api)
    assert text.startswith("-- Generated")
    assert 'new_tcp = "tcp_new_ex",' in text

"""Tests of apigen.emit_bridge: the bridge's table of callback typedefs
(fuv_bridge_kinds.h), from the real interface and from a copy of the header
with callback typedefs added."""

import os
import shutil
import subprocess

import pytest

from apigen import emit_bridge
from apigen.swigxml import ApigenError
from conftest import build_api
from testlib import HEADER_TAIL, ROOT, run

BRIDGE = os.path.join(ROOT, "bindings", "bridge")
H, S, N, B, U, A, F = ("FUV_BRIDGE_ARG_" + t for t in
                       ("HANDLE", "STATUS", "NREAD", "BYTES", "USER",
                        "SOCKADDR", "FLAGS"))


def test_every_typedef_has_its_row_in_header_order(api):
    rows = {name: (kind, lifetime, types)
            for kind, name, lifetime, types in emit_bridge.rows(api)}
    assert [kind for kind, _, _, _ in emit_bridge.rows(api)][:3] == [
        "FUV_BRIDGE_CLOSE_CB", "FUV_BRIDGE_WALK_CB", "FUV_BRIDGE_TIMER_CB"]
    assert rows["fuv_read_cb"] == ("FUV_BRIDGE_READ_CB", "FUV_BRIDGE_PERSISTENT",
                                   [H, N, B, U])
    assert rows["fuv_connect_cb"] == ("FUV_BRIDGE_CONNECT_CB",
                                      "FUV_BRIDGE_ONE_SHOT", [H, S, U])
    # api.i's lifetimes: close is one-shot to the bridge, walk is scoped.
    assert rows["fuv_close_cb"][1] == "FUV_BRIDGE_ONE_SHOT"
    assert rows["fuv_walk_cb"][1] == "FUV_BRIDGE_SCOPED"
    assert rows["fuv_drain_cb"][1] == "FUV_BRIDGE_PERSISTENT"
    assert set(rows) == set(api.callbacks)


def test_a_datagrams_sender_and_flags(api):
    # The bytes follow NREAD; the sockaddr and the unsigned flags have
    # argument types of their own (the bridge converts the sockaddr).
    rows = {name: (kind, lifetime, types)
            for kind, name, lifetime, types in emit_bridge.rows(api)}
    assert rows["fuv_udp_recv_cb"] == ("FUV_BRIDGE_UDP_RECV_CB",
                                       "FUV_BRIDGE_PERSISTENT",
                                       [H, N, B, A, F, U])
    assert rows["fuv_udp_send_cb"] == ("FUV_BRIDGE_UDP_SEND_CB",
                                       "FUV_BRIDGE_ONE_SHOT", [H, S, U])


def test_text_defines_the_kinds_and_rows(api):
    text = emit_bridge.text(api)
    assert "  FUV_BRIDGE_CLOSE_CB = 0, /* fuv_close_cb */" in text
    assert "  FUV_BRIDGE_NKINDS\n} fuv_bridge_kind_t;" in text
    # fuv_udp_recv_cb's six; fuv_bridge.h has room for them.
    assert "#define FUV_BRIDGE_TABLE_MAX_ARGS 6" in text
    with open(os.path.join(BRIDGE, "fuv_bridge.h")) as f:
        assert "#define FUV_BRIDGE_MAX_ARGS 6" in f.read()
    assert ('[FUV_BRIDGE_WRITE_CB] = {"fuv_write_cb", FUV_BRIDGE_ONE_SHOT, 3, '
            '{%s, %s, %s}}' % (H, S, U)) in text


def test_kind_names_are_the_ones_bindings_use(api):
    # The Lua and Python runtimes name kinds in C: the rule must hold.
    assert emit_bridge.kind_name(api.callbacks["fuv_connection_cb"]) == \
        "FUV_BRIDGE_CONNECTION_CB"


def header_with(tmp_path, added):
    """core/include copied under tmp_path with `added` declared at the end
    of flatuv.h; returns the include directory."""
    include = str(tmp_path / "include")
    shutil.copytree(os.path.join(ROOT, "core", "include"), include)
    header = os.path.join(include, "flatuv.h")
    with open(header) as f:
        text = f.read()
    with open(header, "w") as f:
        f.write(text.replace(HEADER_TAIL, added + "\n" + HEADER_TAIL))
    return include


def api_with(tmp_path, added):
    include = header_with(tmp_path, added)
    return include, build_api(tmp_path, os.path.join(ROOT, "swig", "flatuv.i"),
                              [include])


NEW_TYPEDEFS = """
typedef void (*fuv_fs_poll_cb)(fuv_timer_t *poll, void *arg);
typedef void (*fuv_fs_event_cb)(fuv_stream_t *ev, int status, void *arg);
"""


def test_a_new_typedef_needs_no_hand_written_row(tmp_path):
    include, api = api_with(tmp_path, NEW_TYPEDEFS)
    rows = {name: (kind, lifetime, types)
            for kind, name, lifetime, types in emit_bridge.rows(api)}
    assert rows["fuv_fs_poll_cb"] == ("FUV_BRIDGE_FS_POLL_CB",
                                      "FUV_BRIDGE_PERSISTENT", [H, U])
    assert rows["fuv_fs_event_cb"] == ("FUV_BRIDGE_FS_EVENT_CB",
                                       "FUV_BRIDGE_PERSISTENT", [H, S, U])
    # The bridge compiles against it and finds the new kinds by name.
    gen = str(tmp_path / "gen")
    os.makedirs(gen)
    emit_bridge.write(api, gen)
    cflags = subprocess.run(["pkg-config", "--cflags", "libffi"],
                            stdout=subprocess.PIPE, universal_newlines=True,
                            check=False).stdout.split()
    probe = str(tmp_path / "probe.c")
    with open(probe, "w") as f:
        f.write('#include "fuv_bridge.c"\n'
                "_Static_assert(FUV_BRIDGE_FS_POLL_CB < FUV_BRIDGE_NKINDS, \"kind\");\n"
                "int probe(void) {\n"
                '  return fuv_bridge_kind_by_name("fuv_fs_event_cb") ==\n'
                "         FUV_BRIDGE_FS_EVENT_CB;\n"
                "}\n")
    run([os.environ.get("CC") or "cc", "-std=c11", "-Wall", "-Wextra",
         "-Werror", "-D_GNU_SOURCE", "-fsyntax-only", "-I" + gen,
         "-I" + include, "-I" + BRIDGE] + cflags + [probe])


def test_a_parameter_the_bridge_cannot_convert_is_an_error(tmp_path):
    _, api = api_with(tmp_path, "typedef void (*fuv_odd_cb)(fuv_timer_t *t, "
                                "double ratio, void *arg);\n")
    with pytest.raises(ApigenError, match=r"fuv_odd_cb.*'ratio'.*double"):
        emit_bridge.rows(api)

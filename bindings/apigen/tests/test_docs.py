"""Tests of apigen.docs, the one parser of the header's doc comments.

    python3 -m pytest bindings/apigen/tests
"""

import os
import re
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from apigen import docs  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
HEADER = os.path.join(ROOT, "core", "include", "flatuv.h")


def index_of(text, names=None, prefix="x_"):
    """The DocIndex of a header made of text, after a module comment unless
    text has its own (the header's first comment is the module's)."""
    text = textwrap.dedent(text)
    if not text.startswith("/* The module. */"):
        text = "/* The module. */\n#ifndef X_H\n\n" + text
    index = docs.DocIndex(prefix)
    index.add_text(text, names)
    return index


BANNER = "/* " + "-" * 20 + " */\n"


def test_a_comment_just_above_documents_the_declaration():
    index = index_of("""\
        /* Creates an x. */
        X_EXTERN int x_new(x_t **out);
        X_EXTERN int x_undocumented(x_t *x);
        """)
    assert index.get("x_new") == "Creates an x."
    # The comment's reach goes on to the next declaration: it is a group.
    assert index.get("x_undocumented") == "Creates an x."


def test_a_blank_line_ends_a_comment_reach():
    index = index_of("""\
        /* Creates an x. */
        X_EXTERN int x_new(x_t **out);

        X_EXTERN int x_free(x_t *x);
        """)
    assert index.get("x_new") == "Creates an x."
    assert index.get("x_free") is None
    assert [d.name for d in index.functions()] == ["x_new", "x_free"]


def test_a_shared_comment_covers_each_of_its_group():
    index = index_of("""\
        /* Gets / sets the x's data. */
        X_EXTERN void *x_get_data(const x_t *x);
        X_EXTERN int x_set_data(x_t *x,
                                void *data);
        """)
    assert index.get("x_get_data") == "Gets / sets the x's data."
    assert index.get("x_set_data") == "Gets / sets the x's data."
    # A prototype spanning lines is given on one, without the export macro.
    assert index.decls["x_set_data"].prototype == "int x_set_data(x_t *x, void *data)"
    assert index.decls["x_get_data"].prototype == "void *x_get_data(const x_t *x)"


def test_a_standing_note_under_a_banner_covers_the_section():
    index = index_of(BANNER + "/* Sync calls */\n" + BANNER + textwrap.dedent("""\
        /*
         * These block for at most timeout_ms.
         */

        /* Sends. */
        X_EXTERN int x_send(x_t *x, int timeout_ms);
        /* Receives. */
        X_EXTERN int x_recv(x_t *x, int timeout_ms);
        X_EXTERN int x_plain(x_t *x);

        """) + BANNER + "/* Next */\n" + BANNER + textwrap.dedent("""\
        /* After the next banner. */
        X_EXTERN int x_after(x_t *x);
        """))
    note = "These block for at most timeout_ms."
    assert index.get("x_send") == "Sends.\n\n" + note
    assert index.get("x_recv") == "Receives.\n\n" + note
    assert index.get("x_plain") == "Receives.\n\n" + note
    assert index.decls["x_plain"].section == note
    # A banner ends the section, and its title is no note.
    assert index.get("x_after") == "After the next banner."


def test_a_one_line_title_is_not_a_note():
    index = index_of("""\
        /* Options */

        X_EXTERN int x_option(x_t *x);
        """)
    assert index.get("x_option") is None


def test_a_function_taking_a_callback_gets_its_note():
    index = index_of("""\
        /* Called when done; status is 0 or an error. */
        typedef void (*x_done_cb)(x_t *x, int status, void *arg);

        typedef void (*x_quiet_cb)(x_t *x, void *arg);

        /* Starts. */
        X_EXTERN int x_start(x_t *x, x_done_cb cb, void *arg);
        X_EXTERN int x_hush(x_t *x, x_quiet_cb cb, void *arg);
        """)
    assert index.decls["x_done_cb"].kind == "callback"
    assert index.get("x_done_cb") == "Called when done; status is 0 or an error."
    assert index.get("x_start") == (
        "Starts.\n\n"
        "Callback typedef void (*x_done_cb)(x_t *x, int status, void *arg);\n"
        "Called when done; status is 0 or an error.")
    # An undocumented callback still shows its prototype.
    assert index.parts("x_hush")[-1] == \
        "Callback typedef void (*x_quiet_cb)(x_t *x, void *arg);"


def test_types_enums_and_the_module():
    index = index_of("""\
        /* The module. */
        #ifndef X_H
        #define X_H
        #ifdef __cplusplus
        extern "C" {
        #endif
        #define X_MAP(XX) \\
          XX(EOF, -1, "end of file")

        /* The modes. */
        typedef enum {
          /* The first. */
          X_ONE = 1,
          X_TWO /* The second. */
        } x_mode_t;
        /* Creates an x. */
        X_EXTERN int x_new(x_t **out);
        #ifdef __cplusplus
        }
        #endif
        #endif
        """, names=["x_mode_t", "X_ONE", "X_TWO", "X_EOF", "x_new"], prefix="X_")
    assert index.module_doc == "The module."
    assert index.get("x_mode_t") == "The modes."
    assert index.get("X_ONE") == "The first."
    assert index.get("X_TWO") == "The second."
    assert index.get("X_EOF") == "end of file"
    assert index.get("x_new") == "Creates an x."
    assert [d.name for d in index.functions()] == ["x_new"]


def test_names_default_to_functions_and_callbacks():
    text = """\
        typedef void (*x_cb)(int v);
        X_EXTERN const char *x_name(int v);
        extern int x_plain_extern(void);
        """
    assert docs.header_names(textwrap.dedent(text)) == ["x_cb", "x_name", "x_plain_extern"]


def header_functions():
    with open(HEADER, encoding="utf-8") as f:
        return re.findall(r"^FUV_EXTERN\b[^;(]*?\b(fuv_\w+)\s*\(", f.read(), re.M)


def test_every_function_of_the_real_header_is_documented():
    index = docs.parse_header(HEADER, prefix="fuv_")
    expected = header_functions()
    assert len(expected) > 90
    assert sorted(d.name for d in index.functions()) == sorted(expected)
    for name in expected:
        assert index.get(name), name
        assert index.decls[name].prototype.startswith(
            ("int ", "unsigned ", "uint64_t ", "size_t ", "void ", "const char ",
             "fuv_")), name


def test_the_real_header_rules():
    index = docs.parse_header(HEADER, prefix="fuv_")
    # The synchronous section's note reaches each of its functions.
    assert "FUV_ETIMEDOUT when the\ntime runs out" in index.get("fuv_recv")
    assert "FUV_ETIMEDOUT when the\ntime runs out" in index.get("fuv_tcp_connect_sync")
    assert "FUV_ETIMEDOUT when the" not in index.get("fuv_tcp_detach")
    # A callback's note reaches the function taking it.
    assert "Callback typedef void (*fuv_read_cb)" in index.get("fuv_read_start")
    # The getter and setter of one comment share it.
    assert index.get("fuv_loop_get_data") == index.get("fuv_loop_set_data")
    # The conventions at the top are the module's, nobody's own.
    assert index.module_doc.startswith("flatuv - libuv's loop")
    assert "Conventions that hold" not in index.get("fuv_version")

"""Tests of apigen.emit_nim_raw, the Nim raw layer from SWIG's XML (once
bindings/nimgen).

    python3 -m pytest -q bindings/apigen/tests/test_nim_raw.py

They need the pinned SWIG, Nim ($NIM, else nim; skipped without it) and a
C compiler. Set NIMGEN_UPDATE_GOLDEN=1 to rewrite the golden file after a
deliberate change to the generator's output (and review the diff).
"""

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

from testlib import run

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
MINI = os.path.join(HERE, "nim_mini")
GOLDEN = os.path.join(MINI, "mini.nim.expected")

sys.path.insert(0, os.path.dirname(HERE))
from apigen import docs as apidocs, emit_nim_raw, nim_names, nim_types, swigxml  # noqa: E402

NIM = os.environ.get("NIM", "nim")
CC = os.environ.get("CC", "cc")
HAVE_NIM = shutil.which(NIM) is not None
needs_nim = unittest.skipUnless(HAVE_NIM, "no Nim compiler (%s)" % NIM)


def nim_lib_dir():
    out = subprocess.run([NIM, "dump", "--dump.format:json", "--hints:off",
                          os.devnull], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, universal_newlines=True)
    return json.loads(out.stdout)["libpath"]


def generate_mini(**options):
    opts = emit_nim_raw.Options(header="mini.h", prefix="mini_", source="mini.i",
                                **options)
    return emit_nim_raw.generate(os.path.join(MINI, "mini.i"), [MINI], opts)


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="apigen-nim-test-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def nim_c(self, program, *flags, run_it=True, env=None):
        """Compiles (and runs) a Nim program; returns its output."""
        exe = os.path.join(self.tmp, "prog")
        cache = os.path.join(self.tmp, "nimcache")
        cmd = [NIM, "c", "--hints:off", "--nimcache:" + cache, "-o:" + exe]
        cmd += list(flags) + [program]
        run(cmd)
        return run([exe], env=env) if run_it else ""

    def strict_c_check(self, program_name, *include_dirs):
        """Compiles the C that Nim generated for program_name with pointer
        type mismatches as errors: Nim itself hides C warnings, and newer C
        compilers reject such mismatches outright."""
        cache = os.path.join(self.tmp, "nimcache")
        c_files = [f for f in os.listdir(cache)
                   if f.endswith(program_name + ".nim.c")]
        self.assertEqual(len(c_files), 1, c_files)
        cmd = [CC, "-fsyntax-only", "-Werror=incompatible-pointer-types",
               "-Werror=int-conversion", "-I" + nim_lib_dir()]
        cmd += ["-I" + d for d in include_dirs]
        run(cmd + [os.path.join(cache, c_files[0])])


@needs_nim
class GoldenTest(TempDirTest):
    """A small interface in, the expected Nim out."""

    def test_mini_interface_gives_the_golden_module(self):
        text = generate_mini().text
        if os.environ.get("NIMGEN_UPDATE_GOLDEN") == "1":
            with open(GOLDEN, "w") as f:
                f.write(text)
        with open(GOLDEN) as f:
            expected = f.read()
        self.maxDiff = None
        self.assertEqual(text, expected)

    def test_golden_module_compiles_and_works(self):
        self.write("mini.nim", generate_mini().text)
        out = self.nim_c(os.path.join(MINI, "use_mini.nim"), "--path:" + self.tmp,
                         "--passC:-I" + MINI, "--compileOnly:off")
        self.assertEqual(out.strip(), "mini ok")
        self.strict_c_check("use_mini", MINI)

    def test_dynlib_mode_loads_the_library_at_run_time(self):
        lib = os.path.join(self.tmp, "libmini.so")
        run([CC, "-shared", "-fPIC", "-I" + MINI, "-o", lib,
             os.path.join(MINI, "mini.c")])
        text = generate_mini(dynlib=lib).text
        self.assertIn('dynlib: flatuvLib', text)
        self.assertNotIn('header: "mini.h"', text)
        self.write("mini.nim", text)
        out = self.nim_c(os.path.join(MINI, "use_mini.nim"), "--path:" + self.tmp,
                         "-d:miniDynlib")
        self.assertEqual(out.strip(), "mini ok")


@needs_nim
class FlatuvModuleTest(TempDirTest):
    """The module generated from the real interface compiles, with every
    function called at its exact C types."""

    def test_every_function_compiles_against_the_header(self):
        include = os.path.join(ROOT, "core", "include")
        emitter = emit_nim_raw.generate(os.path.join(ROOT, "swig", "flatuv.i"),
                                  [include], emit_nim_raw.Options())
        self.write("flatuv/raw.nim", emitter.text)
        calls = []
        functions = [d for d in emitter.iface.decls if d.kind == "function"]
        for decl in functions:
            params, ret = emitter.nim_signature(decl)
            args = ", ".join("default(%s)" % t for t in params)
            call = "%s(%s)" % (decl.nimname, args)
            calls.append(("  discard " if ret else "  ") + call)
        self.assertGreater(len(calls), 90)
        program = self.write("every_call.nim", textwrap.dedent("""\
            # Calls every function of the raw layer, behind a condition that
            # is false at run time, so that the C compiler sees each call.
            import std/os
            import flatuv/raw
            if paramCount() > 1000:
            """) + "\n".join(calls) + "\n")
        self.nim_c(program, "--path:" + self.tmp, "--passC:-I" + include,
                   "--compileOnly:on", run_it=False)
        self.strict_c_check("every_call", include)


@needs_nim
class AddedFunctionTest(TempDirTest):
    """A function added to the header is callable from Nim after
    regenerating, with no change to the interface or the generator."""

    def test_new_header_function_is_callable(self):
        include = os.path.join(self.tmp, "include")
        shutil.copytree(os.path.join(ROOT, "core", "include"), include)
        shutil.copytree(os.path.join(ROOT, "swig"), os.path.join(self.tmp, "swig"))
        header = os.path.join(include, "flatuv.h")
        with open(header) as f:
            text = f.read()
        tail = "#ifdef __cplusplus\n}\n#endif\n\n#endif /* FLATUV_H */"
        self.assertIn(tail, text)
        added = textwrap.dedent("""\
            /* Returns x + 22: a function that only this test adds. */
            FUV_EXTERN int fuv_tcp_nimgen_added(const fuv_tcp_t *tcp, int x);

            """)
        with open(header, "w") as f:
            f.write(text.replace(tail, added + tail))
        self.write("added.c", textwrap.dedent("""\
            #include "flatuv.h"
            int fuv_tcp_nimgen_added(const fuv_tcp_t *tcp, int x) {
              (void)tcp;
              return x + 22;
            }
            """))
        emitter = emit_nim_raw.generate(os.path.join(self.tmp, "swig", "flatuv.i"),
                                  [include], emit_nim_raw.Options())
        # The default rule names it: no prefix, no object word, camelCase.
        self.assertIn('proc nimgenAdded*(tcp: ptr TCP; x: cint): cint '
                      '{.importc: "fuv_tcp_nimgen_added", header: "flatuv.h", '
                      'cdecl.}\n'
                      '  ## Returns x + 22: a function that only this test adds.',
                      emitter.text)
        self.write("flatuv/raw.nim", emitter.text)
        program = self.write("call_added.nim", textwrap.dedent("""\
            import flatuv/raw
            {.compile: "added.c".}
            let tcp: ptr TCP = nil
            echo tcp.nimgenAdded(20)
            """))
        out = self.nim_c(program, "--path:" + self.tmp, "--passC:-I" + include)
        self.assertEqual(out.strip(), "42")


class PartsTest(unittest.TestCase):
    """The generator's pieces, on inputs small enough to read."""

    def test_c_integer_expressions(self):
        known = {"A": 4, "B": -1}
        self.assertEqual(swigxml.eval_c_int("(-4095)", known), -4095)
        self.assertEqual(swigxml.eval_c_int("A << 2 | 1", known), 17)
        self.assertEqual(swigxml.eval_c_int("0x10 + 010 + 10u", known), 34)
        self.assertEqual(swigxml.eval_c_int("B - 1", known), -2)
        self.assertIsNone(swigxml.eval_c_int("-EAGAIN", known))
        self.assertIsNone(swigxml.eval_c_int("sizeof(int)", known))

    def test_swig_types_map_to_nim(self):
        types = nim_types.NimTypes({"fuv_tcp_t": "TCP", "fuv_read_cb": "ReadCb"})
        cases = {
            "p.q(const).char": "ConstCstring",
            "p.char": "cstring",
            "p.p.fuv_tcp_t": "ptr ptr TCP",
            "p.q(const).fuv_tcp_t": "ptr TCP",
            "p.q(const).p.q(const).char": "ptr ConstCstring",
            "p.void": "pointer",
            "size_t": "csize_t",
            "ssize_t": "Ssize",
            "unsigned int": "cuint",
            "uint64_t": "uint64",
            "fuv_read_cb": "ReadCb",
            # const, so that a callback's proc type is the typedef's.
            "p.q(const).struct sockaddr": "ptr ConstSockAddr",
            "p.q(const).p.q(const).struct sockaddr": "ptr ptr ConstSockAddr",
        }
        for ctype, nim in cases.items():
            self.assertEqual(types.map(ctype, "test"), nim, ctype)
        self.assertIsNone(types.map("void", "test"))
        with self.assertRaises(swigxml.ApigenError):
            types.map("struct unknown_s", "test")

    def test_default_names(self):
        namer = nim_names.Namer("fuv_")
        words = {"fuv_timer_t": "timer"}

        def function(cname, first_param_type):
            return swigxml.Decl("function", cname, cname,
                               params=[swigxml.Param("x", first_param_type)])

        self.assertEqual(namer.function_name(
            function("fuv_timer_get_due_in", "p.q(const).fuv_timer_t"), words),
            "getDueIn")
        self.assertEqual(namer.function_name(
            function("fuv_timer_get_due_in", "int"), words), "timerGetDueIn")
        self.assertEqual(namer.type_name(
            swigxml.Decl("callback", "fuv_close_cb", "fuv_close_cb")), "CloseCb")
        self.assertEqual(namer.type_name(
            swigxml.Decl("enum", "fuv_run_mode_t", "fuv_run_mode_t")), "RunMode")
        self.assertEqual(nim_names.nim_ident("type"), "`type`")
        self.assertEqual(nim_names.nim_normalized("get_Due_in"),
                         nim_names.nim_normalized("getDueIn"))

    def test_comments_attach_to_what_follows(self):
        header = textwrap.dedent("""\
            /* The file. */
            #define A 1

            /* A section title (no full stop), followed by a blank line */

            /* Gets / sets. */
            int x_get(void);
            int x_set(int v);
            int x_other(void);

            /* The enum. */
            typedef enum {
              /* The first. */
              E_ONE = 1,
              E_TWO, /* The second. */
              E_THREE
            } e_t;
            """)
        with tempfile.NamedTemporaryFile("w", suffix=".h", delete=False) as f:
            f.write(header)
        self.addCleanup(os.unlink, f.name)
        docs = apidocs.DocIndex()
        docs.add_header(f.name, ["A", "x_get", "x_set", "x_other", "E_ONE",
                                 "E_TWO", "E_THREE", "e_t"])
        self.assertEqual(docs.module_doc, "The file.")
        self.assertIsNone(docs.get("A"))
        self.assertEqual(docs.get("x_get"), "Gets / sets.")
        self.assertEqual(docs.get("x_set"), "Gets / sets.")
        self.assertEqual(docs.get("x_other"), "Gets / sets.")
        self.assertEqual(docs.get("e_t"), "The enum.")
        self.assertEqual(docs.get("E_ONE"), "The first.")
        self.assertEqual(docs.get("E_TWO"), "The second.")
        self.assertIsNone(docs.get("E_THREE"))

    def generate_inline(self, renames, declarations):
        """Runs nimgen on an interface made of %rename lines and inline C."""
        interface = "%module clash\n" + renames + "%inline %{\n" + \
            "typedef struct s_s s_t;\n" + declarations + "%}\n"
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "clash.i")
            with open(path, "w") as f:
                f.write(interface)
            # SWIG's warnings are expected here: keep them out of the log.
            with contextlib.redirect_stderr(io.StringIO()):
                return emit_nim_raw.generate(path, [tmp], emit_nim_raw.Options(prefix="x_"))

    def test_a_rename_onto_the_same_signature_is_an_error(self):
        with self.assertRaisesRegex(swigxml.ApigenError,
                                    "Redefinition of identifier 'init'"):
            self.generate_inline("%rename(init) a_new;\n%rename(init) b_new;\n",
                                 "int a_new(s_t **out);\nint b_new(s_t **out);\n")

    def test_names_equal_to_nim_are_an_error(self):
        # Different to SWIG, the same identifier to Nim.
        with self.assertRaisesRegex(swigxml.ApigenError,
                                    "a_x and b_x both become Nim get_x"):
            self.generate_inline("%rename(getX) a_x;\n%rename(get_x) b_x;\n",
                                 "int a_x(s_t *s);\nint b_x(s_t *s);\n")

    def test_overloads_with_different_parameters_are_fine(self):
        emitter = self.generate_inline(
            "%rename(init) a_new;\n%rename(init) b_new;\n",
            "int a_new(s_t **out);\nint b_new(s_t **out, int flags);\n")
        self.assertEqual([d.nimname for d in emitter.iface.decls
                          if d.kind == "function"], ["init", "init"])

if __name__ == "__main__":
    unittest.main()

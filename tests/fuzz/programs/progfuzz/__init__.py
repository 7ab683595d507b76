"""progfuzz: flatuv's program fuzzer.

A seeded generator per binding (gen_python, gen_lua) writes whole programs
that mix valid use of flatuv with misuse; the runner runs each in its own
process and gives it a verdict (ok, crash, hang, undocumented, rss, wrong);
the minimizer shrinks a failing program to the few operations that still
fail. See tests/fuzz/programs/README.md.
"""

LANGS = ("python", "lua")

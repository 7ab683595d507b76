"""apigen: the pieces every flatuv binding generator shares.

It will grow into the one generator of issue 11 (model, naming rule, one
emitter per language). Today it holds what the Python docstrings and the
Nim raw layer must agree on: the documentation read from the C header
(docs) and the one pinned SWIG (find_swig). Standard library only,
because it runs inside the C and wheel builds, before any binding exists.
"""

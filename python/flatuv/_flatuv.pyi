# The SWIG-generated module: one function per fuv_* function of flatuv.h,
# named as in C, taking and returning the package's objects.
from typing import Any

class LoopBase:
    closed: bool

class HandleBase:
    closed: bool
    loop: Any

def __getattr__(name: str) -> Any: ...

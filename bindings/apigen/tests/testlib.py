"""What the generator's tests share: running a command, and a copy of the
header with the shapes fixture (shapes/shapes.h) added."""

import os
import shutil
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
SHAPES = os.path.join(HERE, "shapes")
# The end of flatuv.h, before which the shapes' declarations go.
HEADER_TAIL = "#ifdef __cplusplus\n}\n#endif\n\n#endif /* FLATUV_H */"


def run(cmd, **kwargs):
    """Runs cmd; on failure the assertion shows the end of its output."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, **kwargs)
    if proc.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s"
                             % (" ".join(cmd), proc.returncode, proc.stdout[-6000:]))
    return proc.stdout


def copy_header_with_shapes(include):
    """core/include copied to `include`, shapes.h inserted before the end
    of flatuv.h; returns the copied header's path."""
    shutil.copytree(os.path.join(ROOT, "core", "include"), include)
    header = os.path.join(include, "flatuv.h")
    with open(header) as f:
        text = f.read()
    assert HEADER_TAIL in text
    with open(os.path.join(SHAPES, "shapes.h")) as f:
        added = f.read()
    with open(header, "w") as f:
        f.write(text.replace(HEADER_TAIL, added + HEADER_TAIL))
    return header

"""The one way to find the pinned SWIG.

(Named find_swig, not swig: run as a script, a file named swig.py would
shadow the PyPI package it looks for.)

Every binding is generated with one SWIG version, the one pinned in
python/pyproject.toml's build-system.requires ("swig==X.Y.Z"), installed
from PyPI: never a system swig, whose version may differ and whose output
would then differ between languages. Every build asks this module:
swig/FlatuvSwig.cmake (the Python, Lua and Nim CMake builds),
scripts/find-swig.sh, and nimgen (which imports it).

The SWIG is the swig package of the Python running this module, or the
binary named by $FLATUV_SWIG (or $SWIG, the name nim/run_tests.sh
documents), with $FLATUV_SWIG_LIB as its library of .swg files when the
binary does not know it. A version other than the pin is refused.

    python3 find_swig.py [--pyproject FILE]          prints a shell command
    python3 find_swig.py [--pyproject FILE] --fields prints binary, library, version

The package's binary finds its library only through $SWIG_LIB (its console
script sets it), so the command a caller runs is always `SWIG_LIB=... swig`.
"""

import argparse
import glob
import os
import re
import shlex
import subprocess
import sys

# The repository, when this file is the checkout's (python/repo/ reaches it
# through symlinks, so the real path is taken).
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.realpath(__file__)))))
DEFAULT_PYPROJECT = os.path.join(ROOT, "python", "pyproject.toml")


class SwigError(Exception):
    """No usable SWIG, with what to do about it."""


def pin(pyproject=None):
    """The pinned SWIG version, read from pyproject.toml."""
    pyproject = pyproject or DEFAULT_PYPROJECT
    try:
        with open(pyproject, encoding="utf-8") as f:
            match = re.search(r'"swig==([0-9][0-9.a-z]*)"', f.read())
    except OSError as exc:
        raise SwigError("cannot read the SWIG pin: %s" % exc)
    if not match:
        raise SwigError('no "swig==X.Y.Z" pin in %s' % pyproject)
    return match.group(1)


class Swig:
    """One SWIG: its binary, its library (None when the binary knows it)
    and its version."""

    def __init__(self, binary, library, version):
        self.binary = binary
        self.library = library
        self.version = version

    def env(self, base=None):
        """The environment to run it in."""
        env = dict(os.environ if base is None else base)
        if self.library:
            env["SWIG_LIB"] = self.library
        return env

    def run(self, args, **kwargs):
        """Runs SWIG with args (subprocess.run's keyword arguments)."""
        kwargs.setdefault("env", self.env())
        return subprocess.run([self.binary] + list(args), **kwargs)

    def shell_command(self):
        """A command line for sh: `SWIG_LIB=... /path/swig`."""
        words = [shlex.quote(self.binary)]
        if self.library:
            words.insert(0, "SWIG_LIB=" + shlex.quote(self.library))
        return " ".join(words)


def _package_swig():
    """The binary and library of this Python's swig package from PyPI."""
    try:
        import swig as package  # noqa: the PyPI package, not the stdlib
    except ImportError:
        return None, None
    binary = os.path.join(getattr(package, "BIN_DIR", ""), "swig")
    libraries = glob.glob(os.path.join(getattr(package, "SWIG_SHARE_DIR", ""), "*"))
    if not os.path.exists(binary) or len(libraries) != 1:
        return None, None
    return binary, libraries[0]


def version_of(binary, library):
    """The version SWIG reports, or None when it does not run."""
    probe = Swig(binary, library, None)
    try:
        out = probe.run(["-version"], stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, universal_newlines=True).stdout
    except OSError:
        return None
    match = re.search(r"SWIG Version (\S+)", out)
    return match.group(1) if match else None


def find(pyproject=None, environ=None):
    """The pinned SWIG, or SwigError saying why there is none."""
    environ = os.environ if environ is None else environ
    wanted = pin(pyproject)
    binary = environ.get("FLATUV_SWIG") or environ.get("SWIG")
    library = environ.get("FLATUV_SWIG_LIB") or None
    if binary:
        origin = "$FLATUV_SWIG" if environ.get("FLATUV_SWIG") else "$SWIG"
    else:
        binary, library = _package_swig()
        origin = "the swig package of %s" % sys.executable
        if not binary:
            raise SwigError("%s has no swig package from PyPI (pip install "
                            "swig==%s, or run scripts/deps.sh)"
                            % (sys.executable, wanted))
    version = version_of(binary, library)
    if version != wanted:
        raise SwigError("%s (%s) is SWIG %s; the pin in %s is %s"
                        % (binary, origin, version or "that does not run",
                           pyproject or DEFAULT_PYPROJECT, wanted))
    return Swig(binary, library, version)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Prints the pinned SWIG.")
    ap.add_argument("--pyproject", help="the pyproject.toml holding the pin "
                    "(default: the repository's python/pyproject.toml)")
    ap.add_argument("--fields", action="store_true",
                    help="print the binary, the library (or an empty line) "
                         "and the version on three lines, for CMake")
    args = ap.parse_args(argv)
    try:
        swig = find(args.pyproject)
    except SwigError as exc:
        print("find-swig: %s" % exc, file=sys.stderr)
        return 1
    if args.fields:
        print(swig.binary)
        print(swig.library or "")
        print(swig.version)
    else:
        print(swig.shell_command())
    return 0


if __name__ == "__main__":
    sys.exit(main())

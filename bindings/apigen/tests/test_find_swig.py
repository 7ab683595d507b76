"""Tests of apigen.find_swig, the one way to find the pinned SWIG.

They need the pinned swig package from PyPI in this Python (scripts/deps.sh
installs it), as every build does.
"""

import os
import stat
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from apigen import find_swig  # noqa: E402

FINDER = os.path.join(os.path.dirname(HERE), "apigen", "find_swig.py")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def fake_swig(tmp_path, version):
    """A script that answers -version as SWIG `version` would."""
    path = tmp_path / "swig"
    path.write_text("#!/bin/sh\necho\necho 'SWIG Version %s'\n" % version)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def pyproject(tmp_path, pin):
    path = tmp_path / "pyproject.toml"
    path.write_text('[build-system]\nrequires = ["x>=1", "swig==%s"]\n' % pin)
    return str(path)


def test_the_pin_is_read_from_pyproject(tmp_path):
    assert find_swig.pin(pyproject(tmp_path, "9.8.7")) == "9.8.7"
    with open(os.path.join(ROOT, "scripts", "swig-pin.sh")) as f:
        assert "pyproject.toml" in f.read()  # the same file the scripts read
    (tmp_path / "empty.toml").write_text("[project]\n")
    with pytest.raises(find_swig.SwigError, match="no \"swig==X.Y.Z\" pin"):
        find_swig.pin(str(tmp_path / "empty.toml"))


def test_the_package_swig_is_the_pinned_one_and_runs():
    swig = find_swig.find(environ={})
    assert swig.version == find_swig.pin()
    out = swig.run(["-swiglib"], stdout=subprocess.PIPE,
                   universal_newlines=True).stdout.strip()
    assert os.path.isfile(os.path.join(out, "swig.swg"))


def test_an_explicit_binary_must_have_the_pinned_version(tmp_path):
    toml = pyproject(tmp_path, "4.5.1")
    good = find_swig.find(toml, {"FLATUV_SWIG": fake_swig(tmp_path, "4.5.1")})
    assert good.library is None and good.version == "4.5.1"
    with pytest.raises(find_swig.SwigError, match=r"is SWIG 4\.0\.2; the pin .* is 4\.5\.1"):
        find_swig.find(toml, {"SWIG": fake_swig(tmp_path, "4.0.2")})


def test_the_command_line(tmp_path):
    toml = pyproject(tmp_path, "4.5.1")
    env = dict(os.environ, FLATUV_SWIG=fake_swig(tmp_path, "4.5.1"),
               FLATUV_SWIG_LIB="/some lib")
    out = subprocess.run([sys.executable, FINDER, "--pyproject", toml, "--fields"],
                         env=env, stdout=subprocess.PIPE, universal_newlines=True,
                         check=True).stdout
    assert out.splitlines() == [env["FLATUV_SWIG"], "/some lib", "4.5.1"]
    out = subprocess.run([sys.executable, FINDER, "--pyproject", toml],
                         env=env, stdout=subprocess.PIPE, universal_newlines=True,
                         check=True).stdout
    assert out.strip() == "SWIG_LIB='/some lib' " + env["FLATUV_SWIG"]
    # scripts/find-swig.sh is this same command.
    real = subprocess.run(["sh", os.path.join(ROOT, "scripts", "find-swig.sh")],
                          stdout=subprocess.PIPE, universal_newlines=True,
                          env={k: v for k, v in os.environ.items()
                               if k not in ("SWIG", "FLATUV_SWIG", "FLATUV_SWIG_LIB")},
                          check=True).stdout.strip()
    version = subprocess.run(real + " -version", shell=True, stdout=subprocess.PIPE,
                             universal_newlines=True).stdout
    assert "SWIG Version " + find_swig.pin() in version

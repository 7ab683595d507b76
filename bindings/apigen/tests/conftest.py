"""Shared fixtures: the model of the real interface (swig/flatuv.i), built
once per test session with the pinned SWIG."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))

from apigen import find_swig, model, swigxml  # noqa: E402


def build_api(tmp_dir, interface, include_dirs):
    swig = find_swig.find()
    xml = os.path.join(str(tmp_dir), "interface.xml")
    swiglib = swigxml.run_swig(swig, interface, include_dirs, xml)
    return model.load(xml, swiglib, include_dirs)


@pytest.fixture(scope="session")
def api(tmp_path_factory):
    return build_api(tmp_path_factory.mktemp("api"),
                     os.path.join(ROOT, "swig", "flatuv.i"),
                     [os.path.join(ROOT, "core", "include")])

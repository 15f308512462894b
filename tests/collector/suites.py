"""Test suites used by the pytester tests: one with every outcome pytest has."""

EVERY_OUTCOME = """
import pytest

@pytest.fixture
def broken_setup():
    raise RuntimeError("setup broke")

@pytest.fixture
def broken_teardown():
    yield
    raise ValueError("teardown broke")

@pytest.fixture
def skipping_fixture():
    pytest.skip("fixture says skip")

def test_passes():
    assert 1 + 1 == 2

def test_fails():
    x = 3
    assert x == 4

def test_raises():
    {}["missing"]

def test_setup_error(broken_setup):
    pass

def test_teardown_error(broken_teardown):
    assert True

@pytest.mark.skip(reason="marker skip")
def test_skip_marker():
    pass

def test_skip_runtime():
    pytest.skip("runtime skip")

def test_skip_in_fixture(skipping_fixture):
    pass

@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert False

@pytest.mark.xfail(reason="fixed already")
def test_xpass():
    pass

@pytest.mark.xfail(reason="must fail", strict=True)
def test_xpass_strict():
    pass

@pytest.mark.slow
@pytest.mark.parametrize("n", [1, 2])
def test_param(n):
    assert n > 0

class TestGroup:
    def test_method(self):
        assert "a" in "abc"
"""

EVERY_OUTCOME_STATUSES = {
    "test_passes": ("passed", None),
    "test_fails": ("failed", "call"),
    "test_raises": ("failed", "call"),
    "test_setup_error": ("error", "setup"),
    "test_teardown_error": ("error", "teardown"),
    "test_skip_marker": ("skipped", None),
    "test_skip_runtime": ("skipped", None),
    "test_skip_in_fixture": ("skipped", None),
    "test_xfail": ("xfailed", None),
    "test_xpass": ("xpassed", None),
    "test_xpass_strict": ("failed", "call"),
    "test_param[1]": ("passed", None),
    "test_param[2]": ("passed", None),
    "test_method": ("passed", None),
}

INI = """
[pytest]
markers =
    slow: slow tests
"""

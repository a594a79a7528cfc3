"""rlm_code's test harness: runs in a fresh namespace with `_rlm_solution` (the submitted source) and, when tests were
given, `_rlm_tests`. Imports the solution as module `solution`, then runs the tests with its names in scope: top-level
asserts, `test_*` functions and `unittest.TestCase` classes all count. Raises AssertionError when any test fails."""
import sys, types, traceback, unittest
_module = types.ModuleType("solution")
exec(compile(_rlm_solution, "solution.py", "exec"), _module.__dict__)
sys.modules["solution"] = _module
if "_rlm_tests" in globals():
    _scope = dict(_module.__dict__)
    exec(compile(_rlm_tests, "test_solution.py", "exec"), _scope)
    _failed, _ran = 0, 0
    for _name, _test in sorted(_scope.items()):
        if _name.startswith("test") and callable(_test) and not isinstance(_test, type):
            _ran += 1
            try:
                _test()
                print(f"PASS {_name}")
            except Exception as _error:
                _failed += 1
                print(f"FAIL {_name}: {type(_error).__name__}: {_error}")
    _cases = [v for v in _scope.values() if isinstance(v, type) and issubclass(v, unittest.TestCase)]
    if _cases:
        _suite = unittest.TestSuite(unittest.defaultTestLoader.loadTestsFromTestCase(c) for c in _cases)
        _outcome = unittest.TextTestRunner(stream=sys.stdout, verbosity=1).run(_suite)
        _ran += _outcome.testsRun
        _failed += len(_outcome.failures) + len(_outcome.errors)
    print(f"{_ran - _failed} passed, {_failed} failed")
    if _failed:
        raise AssertionError(f"{_failed} of {_ran} tests failed")

"""conftest.py: the hostile-input catalogue reuses the end-to-end suite's fixtures.

The helpers live in ../e2e (svdaemon.py, rawrpc.py, guests.py); its conftest.py is
loaded under another module name and its fixtures and report hook are re-exported,
so every daemon a case starts is stopped and checked for sanitizer reports and an
unexpected exit status at teardown, exactly as in the end-to-end suite.
"""

import importlib.util
import sys
from pathlib import Path

E2E_DIR = Path(__file__).resolve().parent.parent / "e2e"
if str(E2E_DIR) not in sys.path:
    sys.path.insert(0, str(E2E_DIR))

_spec = importlib.util.spec_from_file_location("sv_e2e_conftest", E2E_DIR / "conftest.py")
_e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_e2e)

pytest_runtest_makereport = _e2e.pytest_runtest_makereport
pytest_report_header = _e2e.pytest_report_header
pytest_collection_modifyitems = _e2e.pytest_collection_modifyitems
pytest_sessionfinish = _e2e.pytest_sessionfinish
pytest_unconfigure = _e2e.pytest_unconfigure
root = _e2e.root
daemons = _e2e.daemons
daemon = _e2e.daemon
host = _e2e.host

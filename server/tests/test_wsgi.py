"""The entry points a server loads (server/wsgi.py for gunicorn, server/asgi.py) load the
URLconf and freeze what the worker has loaded, so that no garbage collection scans the code
and configuration again (server/startup.py; docs/performance.md, the ninth session). Each
runs in a fresh interpreter: this test process has imported server.wsgi already
(test_schemathesis does)."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

PROBE = """
import gc, json, sys
loaded_before = len(gc.get_objects())
import {module}
print(json.dumps({
    "frozen": gc.get_freeze_count(),
    "tracked": len(gc.get_objects()),
    "loaded_before": loaded_before,
    "collecting": gc.isenabled(),
    "modules": sorted(name for name in sys.modules if name.endswith((".urls", ".views"))),
}))
"""


@pytest.mark.parametrize("module", ["server.wsgi", "server.asgi"])
def test_a_worker_loads_the_urlconf_and_freezes_what_it_loaded(module):
    script = PROBE.replace("{module}", module)
    output = subprocess.run(
        [sys.executable, "-c", script],
        env=os.environ,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    probe = json.loads(output.splitlines()[-1])
    # The views were imported by the entry point, before any request.
    assert settings.ROOT_URLCONF in probe["modules"]
    assert {"transactions.views", "budgets.views", "households.views"} <= set(probe["modules"])
    # Everything the import made is frozen, not just what the interpreter started with;
    # the collector still runs for what requests make.
    assert probe["frozen"] > 10 * probe["loaded_before"]
    assert probe["tracked"] < probe["frozen"] / 100
    assert probe["collecting"] is True

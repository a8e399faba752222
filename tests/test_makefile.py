"""`make run` on another port: QR codes and posters must encode the address it serves
(they showed port 5000 under `make run PORT=5101`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_passes_its_address_to_the_platform() -> None:
    plan = subprocess.run(["make", "-n", "run", "PORT=5101", "HOST=0.0.0.0"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout
    serve = plan[plan.index("SIPAS_PUBLIC_BASE_URL="):]
    assert '"${SIPAS_PUBLIC_BASE_URL:-http://0.0.0.0:5101}"' in serve
    assert "flask run --host 0.0.0.0 --port 5101" in serve

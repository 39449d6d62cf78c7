"""The Microsoft Advertising script's own Node tests run with the suite (they need no server)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tests.api.harness import ROOT


def test_the_microsoft_ads_scripts_node_tests_pass() -> None:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("PPCOPT_REQUIRE_BROWSER") == "1":
            pytest.fail("node is needed for the Microsoft Advertising script's tests")
        pytest.skip("node is not installed")
    done = subprocess.run(
        [node, "--test", "test/"],
        cwd=ROOT / "clients" / "microsoft-ads-script",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    passed = re.search(r"^# pass (\d+)$", done.stdout, flags=re.MULTILINE)
    assert passed is not None and int(passed.group(1)) > 0, done.stdout[-2000:]

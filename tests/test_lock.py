"""The environment the tests run in is exactly the dev lock: no version drifted, nothing extra.

A fresh `pip install` takes the newest versions inside pyproject's ranges, and a fit's last bits
depend on them; `make test` installs from `requirements/dev.lock`, and this test proves it did.
"""

from __future__ import annotations

import importlib.metadata
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

_ROOT = Path(__file__).resolve().parent.parent
_PROJECT = canonicalize_name("ppc-budget-optimizer")


def _locked(path: Path) -> dict[str, str]:
    """name -> version for the lines of a uv/pip-compile lock whose markers hold here."""
    environment = default_environment()
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line[0] in " #-":
            continue
        requirement = Requirement(line.rstrip(" \\"))
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"{line!r} is not an exact pin"
        pins[canonicalize_name(requirement.name)] = spec.version
    return pins


def _installed() -> dict[str, str]:
    return {
        canonicalize_name(dist.metadata["Name"]): dist.version
        for dist in importlib.metadata.distributions()
        if dist.metadata["Name"]
    }


@pytest.mark.parametrize(
    "lock",
    [pytest.param("runtime.lock", id="runtime"), pytest.param("dev.lock", id="dev")],
)
def test_every_lock_line_is_an_exact_pin_with_hashes(lock: str) -> None:
    text = (_ROOT / "requirements" / lock).read_text(encoding="utf-8")
    pins = _locked(_ROOT / "requirements" / lock)
    assert len(pins) > 20
    assert text.count("--hash=sha256:") >= len(pins)


def test_the_runtime_lock_is_part_of_the_dev_lock() -> None:
    runtime = _locked(_ROOT / "requirements" / "runtime.lock")
    dev = _locked(_ROOT / "requirements" / "dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime


def test_installed_packages_are_exactly_the_dev_lock() -> None:
    if sys.prefix == sys.base_prefix:
        pytest.skip("not in a virtual environment: the lock describes the project's .venv")
    locked = _locked(_ROOT / "requirements" / "dev.lock")
    installed = _installed()
    installed.pop(_PROJECT, None)
    drifted = {
        name: (installed[name], version)
        for name, version in locked.items()
        if name in installed and installed[name] != version
    }
    missing = sorted(set(locked) - set(installed))
    extra = sorted(set(installed) - set(locked))
    assert (drifted, missing, extra) == ({}, [], []), (
        "the virtualenv differs from requirements/dev.lock (installed, locked): "
        f"drifted={drifted} missing={missing} extra={extra}; run `make clean test`"
    )


@pytest.mark.parametrize(
    ("lock", "extras"),
    [pytest.param("runtime.lock", (), id="runtime"), pytest.param("dev.lock", ("dev",), id="dev")],
)
def test_the_lock_satisfies_every_range_in_pyproject(lock: str, extras: tuple[str, ...]) -> None:
    """A dependency added to pyproject without `make lock` fails here, not on a fresh machine."""
    project = tomllib.loads((_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"])
    for extra in extras:
        wanted += project["optional-dependencies"][extra]
    pins = _locked(_ROOT / "requirements" / lock)
    unmet = []
    for text in wanted:
        requirement = Requirement(text)
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned, prereleases=True):
            unmet.append(f"{text} (locked: {pinned})")
    assert not unmet, f"requirements/{lock} does not satisfy {unmet}; run `make lock`"

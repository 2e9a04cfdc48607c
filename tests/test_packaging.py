"""The tool as a user installs it: a wheel built from the sources, installed into a fresh venv,
run from another folder, must give the same outputs as the checkout (rules/ ships inside it)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from pipeline.cli import main

from conftest import CORPUS, ROOT, SAMPLES

CPL = SAMPLES / "cpl_submission.csv"
# What a wheel is built from; the copy keeps build/ and *.egg-info out of the checkout.
SOURCES = ("pyproject.toml", "README.md", "pipeline", "rules")
# Building, a venv and an install from the package index (its cache makes it ~15 s here).
INSTALL_TIMEOUT_S = 300


def _listed_packages() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(config["tool"]["setuptools"]["packages"])


def test_every_pipeline_package_is_in_the_wheel() -> None:
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "pipeline").rglob("__init__.py")
    }
    listed = _listed_packages()
    assert on_disk <= listed, f"add to pyproject.toml packages: {sorted(on_disk - listed)}"
    assert {"pipeline.rules", "pipeline.rules.manufacturer_codings"} <= listed


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=INSTALL_TIMEOUT_S, check=False)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
    return done


def _installed_tool(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            source.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(source)],
         tmp_path)
    (wheel,) = wheels.glob("cplrecon-*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], tmp_path)
    return venv / "bin" / "cplrecon"


def test_the_installed_wheel_reconciles_the_samples_like_the_checkout(tmp_path: Path) -> None:
    tool = _installed_tool(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    common = ["--certs", str(CORPUS), "--cpl", str(CPL), "--workers", "2", "--no-cache", "--quiet"]
    _run([str(tool), "reconcile", *common, "--out", "installed"], elsewhere)
    assert main(["reconcile", *common, "--out", str(tmp_path / "checkout")]) == 0
    for name in ("reconciliation.csv", "certificates.csv"):
        installed = (elsewhere / "installed" / name).read_text(encoding="utf-8-sig")
        checkout = (tmp_path / "checkout" / name).read_text(encoding="utf-8-sig")
        assert installed.count("\n") > 10 and installed == checkout, name
    version = _run([str(tool), "--version"], elsewhere).stdout
    assert version.startswith("cplrecon ")


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_lock_pins_every_dependency_with_hashes() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_name(r) for r in (*config["dependencies"], *config["optional-dependencies"]["dev"])}
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    hashed_pin = re.compile(r"^([A-Za-z0-9_.-]+)==\S+ \\\n\s+--hash=sha256:", re.M)
    pinned = {m.group(1).lower() for m in hashed_pin.finditer(lock)}
    assert wanted <= pinned, f"run `make lock`: {sorted(wanted - pinned)} not pinned"
    assert "pandas" not in {_name(r) for r in config["dependencies"]}  # tests only: the dev extra

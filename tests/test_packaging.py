"""Set-up as a fresh machine meets it: every third-party import is declared, optional ones only
where they cannot break an import, and a built (non-editable) wheel carries its configs and runs
its console scripts from another folder."""

from __future__ import annotations

import ast
import importlib.metadata as md
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "xperience_suite"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SCRIPTS = ("xperience-train", "xperience-evaluate", "xperience-extract", "xperience-export",
           "xperience-sample", "xperience-report")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _req_name(req: str) -> str:
    return _norm(re.match(r"\s*([A-Za-z0-9._-]+)", req).group(1))


def _declared() -> tuple[set[str], set[str]]:
    """(core dependency names, names declared only in an extra)."""
    project = PYPROJECT["project"]
    core = {_req_name(r) for r in project["dependencies"]}
    extras = {_req_name(r) for reqs in project["optional-dependencies"].values() for r in reqs}
    return core, extras - core


def _third_party_imports() -> list[tuple[str, Path, bool]]:
    """(top-level module, file, imported at module level) for every absolute import under src/."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        module_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "xperience_suite":
                    continue
                found.append((top, path, id(node) in module_level))
    return found


def _distributions(module: str) -> set[str]:
    """Distributions that provide ``module`` (installed), else the module's own name."""
    return {_norm(d) for d in md.packages_distributions().get(module, [module])}


def test_every_third_party_import_is_declared():
    core, extras = _declared()
    undeclared = [f"{mod} ({path.relative_to(REPO)})" for mod, path, _ in _third_party_imports()
                  if not _distributions(mod) & (core | extras)]
    assert not undeclared, f"imported but declared nowhere in pyproject.toml: {undeclared}"


def test_optional_extras_are_imported_only_where_they_cannot_break_an_import():
    core, extras = _declared()
    eager = [f"{mod} ({path.relative_to(REPO)})" for mod, path, top in _third_party_imports()
             if top and not _distributions(mod) & core]
    assert not eager, f"module-level imports of packages outside the core dependencies: {eager}"


def test_requirements_file_installs_the_package_and_declares_nothing_else():
    lines = [ln.strip() for ln in (REPO / "requirements.txt").read_text().splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    assert lines == ["-e .[test]"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the checkout's tracked sources (no build/ leftovers)."""
    tree, out = tmp_path_factory.mktemp("tree"), tmp_path_factory.mktemp("wheel")
    for name in ("pyproject.toml", "setup.py", "README.md", "src", "conf"):
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy2
        copy(REPO / name, tree / name, **({"ignore": shutil.ignore_patterns(
            "__pycache__", "*.egg-info")} if (REPO / name).is_dir() else {}))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(out), str(tree)], check=True, capture_output=True, text=True)
    (whl,) = out.glob("xperience_suite-*.whl")
    return whl


def test_wheel_ships_the_config_tree_without_machine_local_settings(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    conf = {n.removeprefix("xperience_suite/conf/") for n in names
            if n.startswith("xperience_suite/conf/")}
    in_repo = {p.relative_to(REPO / "conf").as_posix() for p in (REPO / "conf").rglob("*.yaml")
               if not p.relative_to(REPO / "conf").as_posix().startswith("local/")}
    assert conf == in_repo
    assert "xperience_suite/features/contract.json" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    declared = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert all(f"{s} = " in declared for s in SCRIPTS)


def test_installed_wheel_trains_from_another_folder(wheel, tmp_path, episode_dir):
    """``pip install .`` (not editable), then the console scripts from a folder with no checkout:
    the packaged configs are found and a real run completes."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, text=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target), "WANDB_MODE": "offline"}
    for script in SCRIPTS:
        help_run = subprocess.run([str(target / "bin" / script), "--help"], cwd=work, env=env,
                                  capture_output=True, text=True)
        assert help_run.returncode == 0, f"{script} --help: {help_run.stderr[-800:]}"
    where = subprocess.run([sys.executable, "-c", "import xperience_suite.config_tree as c; "
                            "print(c.config_dir())"], cwd=work, env=env, capture_output=True,
                           text=True, check=True).stdout.strip()
    assert Path(where) == target / "xperience_suite" / "conf"
    run = subprocess.run([str(target / "bin" / "xperience-train"), "task=timeline_action",
                          "head=minimal", "data=episode", f"data.root={episode_dir}",
                          "trainer.accelerator=cpu", "trainer.enable_progress_bar=false",
                          "hydra.run.dir=run"], cwd=work, env=env, capture_output=True, text=True)
    assert run.returncode == 0, (run.stdout + run.stderr)[-1500:]
    last = "timeline_action [minimal, all] test macro_f1 = "
    assert last in run.stdout.strip().splitlines()[-1]
    assert last in (work / "run" / "train.log").read_text().strip().splitlines()[-1]
    assert (work / "run" / "metrics.json").is_file()

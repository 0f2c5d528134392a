"""A bad config stops before any work with one line naming the key, the value and what is allowed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from xperience_suite.errors import XperienceError
from xperience_suite.runs.config_schema import check_config

from .conftest import CONF, REPO, compose_config, compose_train

# Runs each entry point as ``__main__`` (as ``python train.py ...`` would) several times in ONE
# child process, to pay the imports once; each case's stdout+stderr (file descriptors 1 and 2)
# go to a file of their own and its exit status is printed as JSON.
_RUNNER = r"""
import json, os, runpy, sys
from hydra.core.global_hydra import GlobalHydra
cases, out = json.loads(sys.argv[1]), sys.argv[2]
codes = []
for i, (target, argv) in enumerate(cases):
    GlobalHydra.instance().clear()
    sys.argv = [target, *argv]
    sys.stdout.flush(); sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    fd = os.open(f"{out}/{i}.txt", os.O_WRONLY | os.O_CREAT)
    os.dup2(fd, 1); os.dup2(fd, 2)
    code = 0
    try:
        if target.endswith(".py"):
            runpy.run_path(target, run_name="__main__")
        else:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
    except SystemExit as err:
        code = err.code if isinstance(err.code, int) else (0 if err.code is None else 1)
    sys.stdout.flush(); sys.stderr.flush()
    os.dup2(saved[0], 1); os.dup2(saved[1], 2); os.close(fd)
    codes.append(code)
print(json.dumps(codes))
"""


def _run_cases(tmp_path, cases: list[tuple[str, list[str]]]) -> list[tuple[int, str]]:
    out = tmp_path / "cases"
    out.mkdir()
    env_code = f"import sys; sys.path.insert(0, {str(REPO / 'src')!r})\n" + _RUNNER
    proc = subprocess.run([sys.executable, "-c", env_code, json.dumps(cases), str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    codes = json.loads(proc.stdout.strip().splitlines()[-1])
    return [(c, (out / f"{i}.txt").read_text()) for i, c in enumerate(codes)]


def test_bad_inputs_stop_in_one_line_with_status_2(tmp_path):
    run = [f"hydra.run.dir={tmp_path / 'run'}"]
    sweep = [f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    bad = [  # (entry, overrides, what the line must name)
        ("train.py", ["head.lr=abc", *run], ["head.lr", "'abc'", "a number"]),
        ("train.py", ["task.horizon=-5", *run], ["task.horizon", "-5", ">= 1"]),
        ("train.py", ["task.test_fraction=1.5", *run], ["task.test_fraction", "1.5", "(0, 1)"]),
        ("train.py", ["data=episode", *run], ["data.root"]),
        ("train.py", ["head.label_space=embedding", "head.text_encoder=bert", *run],
         ["head.text_encoder", "'bert'", "ngram"]),
        ("train.py", ["-m", "head=minimal", "head.gd_steps=5,0", *sweep],
         ["head.gd_steps", "0", ">= 1", "head.gd_steps=0"]),
        ("evaluate.py", run, ["ckpt_path"]),
        ("xperience_suite.extract", ["data.root=/nowhere", "windows.stride=0", *run],
         ["windows.stride", "0", ">= 1"]),
    ]
    helps = [("train.py", ["--help"]), ("xperience_suite.extract", ["--help"])]
    results = _run_cases(tmp_path, [(e, o) for e, o, _ in bad] + helps)
    for (entry, overrides, names), (code, text) in zip(bad, results):
        lines = [ln for ln in text.splitlines() if ln.strip()]
        assert code == 2, (entry, overrides, text)
        assert len(lines) == 1 and "Traceback" not in text, (entry, overrides, text)
        assert all(n in lines[0] for n in names), (entry, overrides, lines[0])
    assert not (tmp_path / "sweep").exists()  # no job of the sweep ran
    code, text = results[-2]
    assert code == 0 and "hand_forecast" in text
    assert "_common" not in text
    code, text = results[-1]  # only the groups the extractor uses
    assert code == 0 and "executor: local, ray" in text
    assert not any(ln.startswith(("task:", "head:", "logger:")) for ln in text.splitlines())


@pytest.mark.parametrize("overrides,key", [
    (["head.dropout=1.0"], "head.dropout"),
    (["head.max_epochs=0"], "head.max_epochs"),
    (["head.ngram_range=[4,2]"], "head.ngram_range"),
    (["head.unseen_margin=-1"], "head.unseen_margin"),
    (["head.pos_weight_min=30"], "head.pos_weight_min"),
    (["task.label_fraction=0"], "task.label_fraction"),
    (["task=next_action", "task.offset=-1"], "task.offset"),
    (["windows.length=abc"], "windows.length"),
    (["data.preset=huge"], "data.preset"),
    (["data=windows"], "data.root"),
    (["seed=x"], "seed"),
    (["progress=sometimes"], "progress"),
    (["split=episodes", "split.fractions.train=0.9"], "split.fractions"),
    (["split=nonsense_split_name"], None),  # not a group option: Hydra refuses it first
])
def test_schema_refuses_bad_values(tmp_path, overrides, key):
    if key is None:
        with pytest.raises(Exception):
            compose_train(tmp_path, overrides)
        return
    cfg = compose_train(tmp_path, overrides)
    with pytest.raises(XperienceError) as err:
        check_config(cfg, "train")
    assert f"'{key}'" in str(err.value) and "\n" not in str(err.value)


def test_every_shipped_config_passes_the_schema(tmp_path):
    tasks = sorted(p.stem for p in (REPO / "conf" / "task").glob("*.yaml"))
    heads = sorted(p.stem for p in (REPO / "conf" / "head").glob("*.yaml"))
    assert tasks and not any(t.startswith("_") for t in tasks)
    for task in tasks:
        check_config(compose_train(tmp_path, [f"task={task}"]), "train")
    for head in heads:  # the label-space switch where the head has one (not projection-only heads)
        space = "label_space" in (REPO / "conf" / "head" / f"{head}.yaml").read_text()
        check_config(compose_train(tmp_path, [f"head={head}",
                                              *(["head.label_space=embedding"] if space else [])]),
                     "train")
    check_config(compose_train(tmp_path, ["data=episodes", "data.root=/x", "split=episodes"]),
                 "train")
    check_config(compose_config("evaluate", tmp_path, ["ckpt_path=/x.ckpt"]), "evaluate")
    check_config(compose_config("extract", tmp_path, ["data.root=/x"]), "extract")
    cfg = compose_train(tmp_path, [])
    assert cfg.task.label_fraction == 0.6 and cfg.task.test_fraction == 0.3


def test_train_takes_the_extraction_settings_of_extract_yaml(tmp_path):
    """``train.py ... extract.video_size=64`` (README: a store built with other settings) composes,
    and reaches the run's extraction settings; train.yaml's defaults are extract.yaml's."""
    from omegaconf import OmegaConf

    from xperience_suite.features.extract import extract_settings
    from xperience_suite.runs.training import extract_of

    cfg = compose_train(tmp_path / "a", ["extract.video_size=64", "extract.raw_logmel=false"])
    settings = extract_settings(OmegaConf.to_container(cfg.windows), extract_of(cfg))
    assert (settings.video_size, settings.raw_logmel) == (64, False)
    train = OmegaConf.load(CONF / "train.yaml").extract
    extract = OmegaConf.load(CONF / "extract.yaml").extract
    assert {"video_size", "raw_logmel", "video_resize"} <= set(train)
    assert all(train[k] == extract[k] for k in train)
    with pytest.raises(XperienceError, match="extract.video_size"):
        check_config(compose_train(tmp_path / "b", ["extract.video_size=0"]), "train")

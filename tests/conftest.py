"""Shared fixtures: a tiny random model for speed, the real e5-small and real data for truth."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

# Tests never touch the user's models, embedding cache or results.
TEST_HOME = tempfile.mkdtemp(prefix="hybrid-eval-test-")
os.environ["HYBRID_EVAL_HOME"] = TEST_HOME
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from hybridcore.config.paths import data_dir, models_dir  # noqa: E402
from hybridcore.data.formats.lareqa import RetrievalSet, load_lareqa  # noqa: E402
from hybridcore.model import e5small  # noqa: E402
from tests.helpers import subset  # noqa: E402


def pytest_sessionfinish(session, exitstatus) -> None:
    """The test home holds GBs of models and embeddings: left behind, a hundred test runs
    filled this machine's disk."""
    shutil.rmtree(TEST_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (data_dir() / "xquad-r").is_dir():
        pytest.fail(f"shared data not found at {data_dir()} (set HYBRID_EVAL_DATA_DIR)")
    return data_dir()


@pytest.fixture(scope="session")
def xquad(shared_data) -> RetrievalSet:
    return load_lareqa("xquad-r")


@pytest.fixture(scope="session")
def xquad_small(xquad) -> RetrievalSet:
    """Three languages (one of them Thai, unseen in MLQA-R), 30 paragraphs each."""
    three = RetrievalSet(
        xquad.name,
        tuple(q for q in xquad.questions if q.lang in {"en", "de", "th"}),
        tuple(c for c in xquad.candidates if c.lang in {"en", "de", "th"}),
    )
    return subset(three, 30)


@pytest.fixture(scope="session")
def e5_path() -> Path:
    return e5small.build(models_dir() / e5small.MODEL_NAME)


@pytest.fixture(scope="session")
def real_encoder(e5_path):
    """The real model at fp32 on every CPU: the checks against pytrec_eval are exact only
    without score ties, and bf16 embeddings (auto precision where the CPU has a bf16 kernel,
    AVX512-BF16 or AMX) tie often."""
    from hybridcore.config.spec import EncoderSettings
    from hybridcore.model.encoder import Encoder

    return Encoder(str(e5_path), EncoderSettings(precision="fp32"))


@pytest.fixture(scope="session")
def real_embeddings(real_encoder, xquad_small) -> tuple[np.ndarray, np.ndarray]:
    """Real e5-small embeddings of the small XQuAD-R subset, candidates with context."""
    return xquad_small.encode(real_encoder, candidate_context=True)


@pytest.fixture(scope="session")
def afriqa_small(shared_data):
    """Real AfriQA: Hausa (pretraining only) and Yoruba (never seen), 40 test questions each,
    against a pool of their gold passages and 260 others drawn from the real pool."""
    from dataclasses import replace

    from hybridcore.data.dataset import LoadOptions
    from hybridcore.data.formats.afriqa import load_afriqa

    full = load_afriqa(shared_data / "afriqa", LoadOptions(languages=("hau", "yor")))
    questions = [q for lang in ("ha", "yo") for q in [q for q in full.questions if q.lang == lang][:40]]
    gold = sorted({q.passage for q in questions})
    rest = sorted(set(range(len(full.passages))) - set(gold))
    keep = gold + sorted(np.random.default_rng(0).choice(rest, 260, replace=False).tolist())
    position = {old: new for new, old in enumerate(keep)}
    return replace(
        full,
        questions=tuple(replace(q, passage=position[q.passage]) for q in questions),
        passages=tuple(full.passages[i] for i in keep),
    )


@pytest.fixture(scope="session")
def afriqa_embeddings(real_encoder, afriqa_small) -> tuple[np.ndarray, np.ndarray]:
    return afriqa_small.encode(real_encoder)


@pytest.fixture(scope="session")
def flores_small(shared_data):
    """Real SIB-200 dev split (99 sentences) in English, Yoruba, Swahili and German."""
    from hybridcore.data.dataset import LoadOptions
    from hybridcore.data.formats.sib200 import load_flores

    return load_flores(
        shared_data / "sib-200", LoadOptions(languages=("yor_Latn", "swh_Latn", "deu_Latn"), split="dev")
    )


@pytest.fixture(scope="session")
def flores_embeddings(real_encoder, flores_small) -> tuple[np.ndarray, np.ndarray]:
    return flores_small.encode(real_encoder)


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server on loopback for the whole session."""
    from tests.postgres import PostgresServer

    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, e5_path) -> Path:
    """A 2-layer, 32-wide random BERT with the real XLM-R tokenizer, saved as safetensors."""
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-model")
    config = BertConfig(
        vocab_size=250037,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        type_vocab_size=2,
    )
    BertModel(config, add_pooling_layer=False).save_pretrained(folder, safe_serialization=True)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(e5_path / name, folder / name)
    return folder


# Fixtures that bring the real model or the real data: a test that uses any of them, directly
# or through another fixture, is marked `real` (the tiny model carries the real tokenizer).
REAL_FIXTURES = {
    "shared_data",
    "xquad",
    "xquad_small",
    "e5_path",
    "real_encoder",
    "real_embeddings",
    "tiny_model",
    "afriqa_small",
    "afriqa_embeddings",
    "flores_small",
    "flores_embeddings",
}


# `real_model`: the test encodes with the real e5-small (through these fixtures, or its path
# asked for directly). `server`: it starts a server (PostgreSQL, Prefect, Streamlit with a
# browser). `make test-fast` runs everything else.
REAL_MODEL_FIXTURES = {"real_encoder", "real_embeddings", "afriqa_embeddings", "flores_embeddings"}
SERVER_FIXTURES = {"postgres", "nightly_store"}  # the nightly store: flows under Prefect's temporary server
SERVER_MODULES = {"test_flow", "test_services", "test_faults", "test_nightly"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        direct = set(getattr(getattr(item, "_fixtureinfo", None), "argnames", ()))
        if REAL_FIXTURES & used:
            item.add_marker(pytest.mark.real)
        if REAL_MODEL_FIXTURES & used or "e5_path" in direct:
            item.add_marker(pytest.mark.real_model)
        if SERVER_FIXTURES & used or item.module.__name__.split(".")[-1] in SERVER_MODULES or "browser" in item.name:
            item.add_marker(pytest.mark.server)

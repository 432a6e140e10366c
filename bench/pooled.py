"""The pooled multilingual setting at FLORES-200 scale: time and peak memory.

Every chosen language's sentences against the pool of all of them (all 205 languages and
1,004 sentences: 205,820 queries against 205,820 candidates). The scoring keeps memory
bounded: it ranks a few hundred queries at a time and, within them, touches at most
``relevant_ranks``' cell budget at once, so peak memory grows with the pool's embeddings,
not with queries x candidates.

    python -m bench.pooled --languages all              # the full 205 x 1,004
    python -m bench.pooled --languages all --split dev  # 205 x 99, minutes on 2 cores

The embeddings are kept beside the report (``pooled.npy``), so a second run with
``--reuse-embeddings`` times the scoring alone without encoding 10 M tokens again.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np

from hybridcore.analysis.figures import macro
from hybridcore.config.provenance import cpu
from hybridcore.data.formats.registry import load_dataset
from hybridcore.model.encoder import Encoder


def main(model: str, languages: str, split: str | None, out: Path, reuse_embeddings: bool = False) -> dict:
    reference = f"sib-200?languages={languages}" + (f"&split={split}" if split else "")
    started = time.perf_counter()
    data = load_dataset(reference)
    encoder = Encoder(model)
    load_s = time.perf_counter() - started
    kept = out.with_suffix(".npy")
    clock = time.perf_counter()
    if reuse_embeddings:
        queries = candidates = np.load(kept)
        encode_s = None
    else:
        queries, candidates = data.encode(encoder)
        encode_s = time.perf_counter() - clock
        out.parent.mkdir(parents=True, exist_ok=True)
        np.save(kept, queries)
    clock = time.perf_counter()
    evaluation = data.evaluate(queries, candidates)
    evaluate_s = time.perf_counter() - clock
    summary = macro(evaluation.figures(), by=("setting", "metric"))
    report = {
        "reference": reference,
        "model": model,
        "languages": len(data.languages),
        "sentences": int(len(queries)),
        "tokens": encoder.stats.tokens,
        "load_s": load_s,
        "encode_s": encode_s,
        "evaluate_s": evaluate_s,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "cpu": cpu(),
        "dtype": str(encoder.dtype),
        "macro": {f"{r.setting} {r.metric}": float(r.value) for r in summary.itertuples(index=False)},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="e5-small")
    parser.add_argument(
        "--languages", default="all", help="a SIB-200 subset name (quick, all) or comma-separated codes"
    )
    parser.add_argument("--split", default=None, help="train, dev or test (default: all three, 1,004 sentences)")
    parser.add_argument("--out", type=Path, default=Path("results/pooled.json"))
    parser.add_argument(
        "--reuse-embeddings", action="store_true", help="score the embeddings an earlier run kept beside --out"
    )
    args = parser.parse_args()
    print(json.dumps(main(args.model, args.languages, args.split, args.out, args.reuse_embeddings), indent=1))

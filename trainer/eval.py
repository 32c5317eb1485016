"""Measure the shipped model (model/ as the engine loads it: dequantised int8 weights) and write JSON.

    trainer/.venv/bin/python trainer/eval.py --out target/model-eval.json

Keys: val_loss (held-out documents, nats/token, every position of non-overlapping context windows),
unigram_val_loss / bigram_val_loss (add-k count models from the training documents, same held-out
tokens), prev_token_head (best head's mean weight on the previous token over held-out text), induction
(best head's mean weight from the second copy of a repeated random-token sequence onto the token after
the earlier occurrence, and the losses on both copies), weights_bytes; plus every head's scores.
Needs the corpus (trainer/setup.sh).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

TRAINER = Path(__file__).resolve().parent
sys.path.insert(0, str(TRAINER))

import corpus  # noqa: E402
import export  # noqa: E402
import metrics  # noqa: E402
import tinylm  # noqa: E402
from train import encode_documents  # noqa: E402


def _rounded(m):
    return [[round(float(x), 4) for x in row] for row in np.asarray(m)]


def evaluate(model_dir):
    import jax.numpy as jnp
    from tokenizers import Tokenizer

    model_dir = Path(model_dir)
    cfg, params, _, meta = export.load_shipped(model_dir)
    p = {k: jnp.asarray(v) for k, v in params.items()}
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    docs = list(corpus.documents())
    train = encode_documents(tok, [d for d in docs if not corpus.is_val(d[0])])
    val = encode_documents(tok, [d for d in docs if corpus.is_val(d[0])])
    windows = metrics.val_windows(val, cfg["context"])
    val_loss = metrics.model_val_loss(p, cfg, windows)
    # The baselines are scored on exactly the tokens the model predicts: every window's positions 1..C.
    base = metrics.count_baselines(train, windows, cfg["vocab_size"])
    prev = metrics.prev_token_scores(p, cfg, windows)
    ind = metrics.induction(p, cfg, n_seqs=256)
    prof = metrics.head_profiles(p, cfg, windows[:1024])
    example = export.GOLDEN_SENTENCES[0]
    ex_ids = tok.encode(example).ids
    ex_tokens = [tok.decode([i]) for i in ex_ids]
    _, ex_w = tinylm.forward(p, cfg, jnp.asarray([ex_ids], jnp.int32), return_weights=True)
    ex_w = np.asarray(ex_w)[:, 0]  # (L, H, T, T)
    heads = []
    for li in range(cfg["n_layers"]):
        for hi in range(cfg["n_heads"]):
            rows = []
            for qi, qt in enumerate(ex_tokens):
                ki = int(np.argmax(ex_w[li, hi, qi, : qi + 1]))
                rows.append({"query": qt, "key": ex_tokens[ki], "key_position": ki,
                             "weight": round(float(ex_w[li, hi, qi, ki]), 3)})
            heads.append({"layer": li, "head": hi,
                          **{k: round(float(v[li, hi]), 4) for k, v in prof.items()},
                          "induction": round(float(ind["scores"][li, hi]), 4),
                          "example_top_key": rows})
    pl, ph = np.unravel_index(np.argmax(prev), prev.shape)
    il, ih = np.unravel_index(np.argmax(ind["scores"]), ind["scores"].shape)
    return {
        "model": meta.get("name"),
        "config": cfg,
        "val_loss": val_loss,
        "unigram_val_loss": base["unigram"],
        "bigram_val_loss": base["bigram"],
        "baseline_smoothing_k": {"unigram": base["unigram_k"], "bigram": base["bigram_k"]},
        "val_tokens_predicted": int(windows.shape[0] * (windows.shape[1] - 1)),
        "prev_token_head": float(prev[pl, ph]),
        "prev_token_best": {"layer": int(pl), "head": int(ph)},
        "prev_token_all_heads": _rounded(prev),
        "induction": {
            "score": float(ind["scores"][il, ih]),
            "layer": int(il), "head": int(ih),
            "first_half_loss": ind["first_half_loss"],
            "second_half_loss": ind["second_half_loss"],
            "all_heads": _rounded(ind["scores"]),
            "sequences": 256, "half_length": cfg["context"] // 2,
        },
        "weights_bytes": (model_dir / "model.safetensors").stat().st_size,
        "example": example,
        "heads": heads,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(TRAINER.parent / "model"))
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    t0 = time.time()
    res = evaluate(args.model)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps({k: res[k] for k in ["val_loss", "unigram_val_loss", "bigram_val_loss",
                                          "prev_token_head", "induction", "weights_bytes"]}, indent=1))
    print(f"eval: wrote {out} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()

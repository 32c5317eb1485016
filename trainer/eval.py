"""Measure the shipped model (model/ as the engine loads it: dequantised int8 weights) and write JSON.

    trainer/.venv/bin/python trainer/eval.py --out target/model-eval.json

    trainer/.venv/bin/python trainer/eval.py --out target/model-eval.json --heads model/heads.json

Keys: val_loss (held-out documents, nats/token, every held-out token predicted once in context windows
that start with the start token when the model has one), unigram_val_loss / bigram_val_loss (add-k count
models from the training documents, same held-out tokens), prev_token_head (best head's mean weight on
the previous token over held-out text), induction {best_score, layer, head, first_copy_loss,
second_copy_loss} (best head's mean weight from the second copy of a repeated random-token sequence onto
the token after the earlier occurrence, and the losses on both copies), heads [{layer, head, name, prev,
self, start, duplicate, induction, mean_distance}], weights_bytes; plus every head's scores.

--heads writes the head profile the page reads (model/heads.json); --check-heads fails if the shipped
profile differs from the measured one (a retrain that changes the heads must regenerate it).
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


def r4(x):
    return round(float(x), 4)


def head_profile(res):
    """The small file the page reads to name heads: per head its measured scores and name, the naming
    rules, and which head the recipe's auxiliary loss trained (disclosed on the page)."""
    import train
    aux = train.RECIPE.get("aux_prev_token")
    return {
        "model": res["model"],
        "measured_on": "held-out text (queries at positions >= 8); induction on 256 repeated random sequences",
        "rules": [{"name": n, "when": w} for n, w, _ in metrics.HEAD_NAME_RULES],
        "trained_by_auxiliary_loss": None if not aux else {"layer": aux["layer"], "head": aux["head"],
                                                          "target": "previous token"},
        "heads": [{k: h[k] for k in ["layer", "head", "name", "prev", "self", "start", "duplicate",
                                     "induction", "mean_distance"]} for h in res["heads"]],
    }


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
    windows = metrics.val_windows(val, cfg["context"], bos_id=cfg.get("bos_id"))
    val_loss = metrics.model_val_loss(p, cfg, windows)
    # The baselines are scored on exactly the tokens the model predicts: every window's positions 1..C.
    base = metrics.count_baselines(train, windows, cfg["vocab_size"])
    prev = metrics.prev_token_scores(p, cfg, windows)
    ind = metrics.induction(p, cfg, n_seqs=256)
    prof = metrics.head_profiles(p, cfg, windows[:1024])
    example = export.GOLDEN_SENTENCES[0]
    ex_ids = ([cfg["bos_id"]] if "bos_id" in cfg else []) + tok.encode(example).ids
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
            h = {"layer": li, "head": hi, "prev": r4(prof["previous"][li, hi]), "self": r4(prof["current"][li, hi]),
                 "start": r4(prof["first"][li, hi]), "duplicate": r4(prof["earlier_same_token"][li, hi]),
                 "induction": r4(ind["scores"][li, hi]), "mean_distance": r4(prof["mean_distance"][li, hi])}
            h["name"] = metrics.head_name(h)
            heads.append({**h, "example_top_key": rows})
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
            "best_score": float(ind["scores"][il, ih]),
            "layer": int(il), "head": int(ih),
            "first_copy_loss": ind["first_half_loss"],
            "second_copy_loss": ind["second_half_loss"],
            "all_heads": _rounded(ind["scores"]),
            "sequences": 256, "copy_length": (cfg["context"] - (1 if "bos_id" in cfg else 0)) // 2,
        },
        "weights_bytes": (model_dir / "model.safetensors").stat().st_size,
        "example": example,
        "heads": heads,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(TRAINER.parent / "model"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--heads", help="write the head profile (model/heads.json) here")
    ap.add_argument("--check-heads", help="fail unless this head profile equals the measured one")
    args = ap.parse_args()
    t0 = time.time()
    res = evaluate(args.model)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    profile = head_profile(res)
    if args.heads:
        Path(args.heads).write_text(json.dumps(profile, indent=1, ensure_ascii=False) + "\n")
    if args.check_heads:
        shipped = json.loads(Path(args.check_heads).read_text())
        if shipped != json.loads(json.dumps(profile, ensure_ascii=False)):
            raise SystemExit(f"eval: {args.check_heads} differs from the measured head profile; regenerate it "
                             "with --heads")
    print(json.dumps({k: res[k] for k in ["val_loss", "unigram_val_loss", "bigram_val_loss",
                                          "prev_token_head", "induction", "weights_bytes"]}, indent=1))
    print(f"eval: wrote {out} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()

"""Train the shipped model from scratch, then export model/.

    trainer/.venv/bin/python trainer/train.py            # the full run (fixed seed, resumable)
    trainer/.venv/bin/python trainer/train.py --smoke    # CI: a few steps on a small slice, checks

The run is deterministic for a given seed: batch b of step s is drawn from a generator seeded with
(seed, s), so a run resumed from a checkpoint sees the same batches as an uninterrupted one.
Checkpoints go to trainer/checkpoints/<run>/ every few minutes.
"""

import argparse
import hashlib
import json
import math
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TRAINER = Path(__file__).resolve().parent
sys.path.insert(0, str(TRAINER))

import corpus  # noqa: E402

# The recipe of the shipped model. MODEL.md quotes these values.
RECIPE = {
    "seed": 20261127,
    "vocab_size": 4096,
    "d_model": 128,
    "n_layers": 2,
    "n_heads": 4,
    "d_mlp": 512,
    "context": 64,
    "batch": 64,
    "steps": 5000,
    "peak_lr": 3e-3,
    "final_lr_fraction": 0.1,
    "warmup_steps": 300,
    "weight_decay": 0.05,
    "grad_clip": 1.0,
    "repeat_fraction": 0.25,
    "repeat_span": [6, 24],
    "pos_init": "normal",
}


def encode_documents(tok, docs):
    """Documents → one token stream, each document followed by <|endoftext|>."""
    eot = tok.token_to_id(corpus.EOT)
    encs = tok.encode_batch([text for _, text in docs])
    parts = []
    for enc in encs:
        parts.append(np.asarray(enc.ids, np.uint16))
        parts.append(np.asarray([eot], np.uint16))
    return np.concatenate(parts) if parts else np.zeros(0, np.uint16)


def prepare_data(run_dir, vocab_size, docs):
    """Tokenizer (trained on the training documents) and the train/val token streams, cached in run_dir."""
    from tokenizers import Tokenizer
    tok_path = run_dir / "tokenizer.json"
    train_docs = [(n, t) for n, t in docs if not corpus.is_val(n)]
    val_docs = [(n, t) for n, t in docs if corpus.is_val(n)]
    digest = hashlib.sha256("\0".join(n + "\0" + t for n, t in docs).encode()).hexdigest()[:16]
    cache = run_dir / f"tokens-{digest}.npz"
    if tok_path.exists() and cache.exists():
        z = np.load(cache)
        return Tokenizer.from_file(str(tok_path)), z["train"], z["val"]
    tok = corpus.build_tokenizer([t for _, t in train_docs], tok_path, vocab_size)
    train = encode_documents(tok, train_docs)
    val = encode_documents(tok, val_docs)
    np.savez(cache, train=train, val=val)
    return tok, train, val


def sample_batch(stream, seed, step, batch, context, repeat_fraction, span):
    """Random windows of context+1 tokens; in a fraction of them a span of natural text is copied to a
    later position of the same window, so that a repeated span occurs in ordinary prose."""
    rng = np.random.default_rng([seed, step])
    starts = rng.integers(0, len(stream) - context - 1, size=batch)
    x = stream[starts[:, None] + np.arange(context + 1)[None]].astype(np.int32)
    for b in range(batch):
        if rng.random() < repeat_fraction:
            k = int(rng.integers(span[0], span[1] + 1))
            a = int(rng.integers(0, context + 1 - 2 * k + 1))
            d = int(rng.integers(a + k, context + 1 - k + 1))
            x[b, d:d + k] = x[b, a:a + k].copy()
    return x


def make_optimizer(recipe, steps):
    import optax
    sched = optax.warmup_cosine_decay_schedule(
        init_value=0.0, peak_value=recipe["peak_lr"], warmup_steps=recipe["warmup_steps"],
        decay_steps=steps, end_value=recipe["peak_lr"] * recipe["final_lr_fraction"])

    def decay_mask(params):
        return {k: v.ndim == 2 for k, v in params.items()}
    return optax.chain(
        optax.clip_by_global_norm(recipe["grad_clip"]),
        optax.adamw(sched, b1=0.9, b2=0.98, weight_decay=recipe["weight_decay"], mask=decay_mask),
    ), sched


def save_checkpoint(run_dir, step, params, opt_state, cfg, recipe, elapsed, log):
    import jax
    state = {"step": step, "params": {k: np.asarray(v) for k, v in params.items()},
             "opt_state": jax.tree_util.tree_map(np.asarray, opt_state), "config": cfg,
             "recipe": recipe, "elapsed": elapsed, "log": log}
    tmp = run_dir / "checkpoint.pkl.tmp"
    with open(tmp, "wb") as f:
        pickle.dump(state, f)
    os.replace(tmp, run_dir / "checkpoint.pkl")


def load_checkpoint(run_dir):
    path = run_dir / "checkpoint.pkl"
    if not path.exists():
        return None
    with open(path, "rb") as f:
        return pickle.load(f)


def train(run_dir, recipe, docs, checkpoint_every_s=300, eval_every=1000, log_every=100, out=print):
    import jax
    import jax.numpy as jnp
    import optax

    import metrics
    import tinylm

    run_dir.mkdir(parents=True, exist_ok=True)
    tok, train_stream, val_stream = prepare_data(run_dir, recipe["vocab_size"], docs)
    V = tok.get_vocab_size()
    cfg = tinylm.make_config(V, recipe["d_model"], recipe["n_layers"], recipe["n_heads"], recipe["d_mlp"],
                             recipe["context"])
    out(f"data: {len(train_stream):,} train tokens, {len(val_stream):,} val tokens, vocab {V}")
    steps = recipe["steps"]
    opt, sched = make_optimizer(recipe, steps)
    ck = load_checkpoint(run_dir)
    if ck is not None and ck["recipe"] == recipe:
        params = {k: jnp.asarray(v) for k, v in ck["params"].items()}
        opt_state = jax.tree_util.tree_map(jnp.asarray, ck["opt_state"])
        start, elapsed, log = ck["step"], ck["elapsed"], ck["log"]
        out(f"resumed from step {start} ({elapsed:.0f} s trained)")
    else:
        params = tinylm.init_params(cfg, recipe["seed"], recipe.get("pos_init", "normal"))
        opt_state = opt.init(params)
        start, elapsed, log = 0, 0.0, []

    def loss_fn(p, ids):
        return tinylm.token_losses(p, cfg, ids).mean()

    @jax.jit
    def step_fn(p, s, ids):
        loss, g = jax.value_and_grad(loss_fn)(p, ids)
        updates, s = opt.update(g, s, p)
        return optax.apply_updates(p, updates), s, loss

    t_last_ck = time.time()
    t0 = time.time() - elapsed
    window, t_window = [], time.time()
    tokens_per_step = recipe["batch"] * recipe["context"]
    for step in range(start, steps):
        ids = sample_batch(train_stream, recipe["seed"], step, recipe["batch"], recipe["context"],
                           recipe["repeat_fraction"], recipe["repeat_span"])
        params, opt_state, loss = step_fn(params, opt_state, jnp.asarray(ids))
        window.append(loss)
        done = step + 1
        if done % log_every == 0 or done == steps:
            losses = [float(x) for x in window]
            dt = time.time() - t_window
            rec = {"step": done, "loss": float(np.mean(losses)), "lr": float(sched(step)),
                   "tokens_per_s": len(losses) * tokens_per_step / dt, "elapsed_s": time.time() - t0}
            log.append(rec)
            out(f"step {done:6d}  loss {rec['loss']:.4f}  lr {rec['lr']:.2e}  "
                f"{rec['tokens_per_s']:,.0f} tok/s  {rec['elapsed_s']:.0f} s")
            window, t_window = [], time.time()
        if done % eval_every == 0 or done == steps:
            m = metrics.summary(params, cfg, val_stream)
            rec = {"step": done, "val_loss": m["val_loss"], "prev_token": m["prev_token"].tolist(),
                   "induction": m["induction"]["scores"].tolist(),
                   "induction_first_half": m["induction"]["first_half_loss"],
                   "induction_second_half": m["induction"]["second_half_loss"]}
            log.append(rec)
            out(f"eval {done}: val {m['val_loss']:.4f}  prev-token [{metrics.fmt_heads(m['prev_token'])}]  "
                f"induction [{metrics.fmt_heads(m['induction']['scores'])}]  repeated halves "
                f"{m['induction']['first_half_loss']:.2f} → {m['induction']['second_half_loss']:.2f}")
            t_window = time.time()
        if time.time() - t_last_ck > checkpoint_every_s or done == steps:
            save_checkpoint(run_dir, done, params, opt_state, cfg, recipe, time.time() - t0, log)
            t_last_ck = time.time()
    return params, cfg, tok, train_stream, val_stream, log


def smoke():
    """A short run on a small slice of the corpus that fails loudly if anything is broken: the loss must
    fall, and the export must round-trip (safetensors names/shapes/dtypes, a NumPy forward pass on the
    dequantised weights equal to the JAX trace, the tokenizer file reloading to the same ids)."""
    import export

    t_start = time.time()
    by_source = {}
    for name, text in corpus.documents():
        by_source.setdefault(name.split("/")[0], []).append((name, text))
    docs = []
    for src_docs in by_source.values():
        docs += src_docs[:12] + [d for d in src_docs if corpus.is_val(d[0])][:2]
    recipe = dict(RECIPE, steps=100, warmup_steps=15, batch=32)
    lines = []

    def out(s):
        lines.append(s)
        print(s, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        params, cfg, tok, _, val, log = train(run_dir, recipe, docs, eval_every=100, log_every=20, out=out)
        losses = [r["loss"] for r in log if "loss" in r]
        if not losses[-1] < losses[0] - 1.0:
            raise SystemExit(f"smoke: expected the training loss to fall by > 1 nat, found {losses[0]:.3f} → "
                             f"{losses[-1]:.3f}")
        out_dir = Path(tmp) / "model"
        export.export(params, cfg, run_dir / "tokenizer.json", out_dir, name="smoke", n_parity=40)
        export.check(out_dir)
    print(f"smoke: OK in {time.time() - t_start:.0f} s (loss {losses[0]:.3f} → {losses[-1]:.3f})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="CI check: a few steps on a small slice")
    ap.add_argument("--run", default="main", help="run name under trainer/checkpoints/")
    ap.add_argument("--steps", type=int, help="override the recipe's step count (pilots only)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help="override a recipe value (pilots only), e.g. --set d_mlp=256")
    ap.add_argument("--no-export", action="store_true", help="train only; do not write model/")
    args = ap.parse_args()
    if args.smoke:
        smoke()
        return
    recipe = dict(RECIPE)
    for kv in args.set:
        k, v = kv.split("=", 1)
        if k not in recipe:
            raise SystemExit(f"--set: expected one of {sorted(recipe)}, found {k!r}")
        recipe[k] = json.loads(v)
    if args.steps:
        recipe["steps"] = args.steps
    run_dir = TRAINER / "checkpoints" / args.run
    docs = list(corpus.documents())
    t0 = time.time()
    params, cfg, tok, _, _, log = train(run_dir, recipe, docs, out=lambda s: print(s, flush=True))
    print(f"training done: {time.time() - t0:.0f} s in this process")
    if not args.no_export:
        import export
        export.export_checkpoint(run_dir, TRAINER.parent / "model")


if __name__ == "__main__":
    main()

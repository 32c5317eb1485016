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
    "seed": 20261203,
    "vocab_size": 4096,
    "d_model": 128,
    "n_layers": 2,
    "n_heads": 4,
    "d_mlp": 512,
    "context": 64,
    # Rotary positions (no position embeddings): measured in pilots, induction heads form with RoPE and
    # stay flat with learned positions.
    "positions": "rope",
    "rope_base": 10000.0,
    # Every window starts with <|endoftext|>, as every analysis does: a neutral place for heads to rest.
    "bos": True,
    "batch": 64,
    "steps": 6000,
    "peak_lr": 2e-3,
    "final_lr_fraction": 0.1,
    "warmup_steps": 300,
    "weight_decay": 0.05,
    "grad_clip": 1.0,
    # Natural-text copies: in this fraction of windows a span of the window's own text is copied later.
    "repeat_fraction": 0.1,
    "repeat_span": [6, 24],
    # Synthetic copy windows: a random-token sequence repeated once after a short gap, inside natural
    # text; no loss on the first copy. Their fraction starts high (the induction phase change needs
    # copy-rich data), then falls to `end` so that natural text dominates.
    "synthetic": {"start": 0.5, "end": 0.1, "hold_steps": 1500, "ramp_steps": 1000, "length": [8, 28],
                  "gap": [0, 8]},
    # An auxiliary loss weight · −log(weight on token i−1) on one head: that head is trained to look at
    # the previous token (disclosed in MODEL.md and on the page). Nothing else is set by hand.
    "aux_prev_token": {"layer": 0, "head": 0, "weight": 0.3},
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


def synthetic_fraction(recipe, step):
    """The share of synthetic copy windows at a step: `start` for hold_steps, then linearly to `end`."""
    syn = recipe.get("synthetic")
    if not syn:
        return 0.0
    t = min(1.0, max(0.0, (step - syn["hold_steps"]) / max(1, syn["ramp_steps"])))
    return syn["start"] + (syn["end"] - syn["start"]) * t


def sample_batch(stream, recipe, step, bos_id, vocab_size):
    """A batch of windows (B, context+1) and loss weights (B, context) for their next-token targets.

    Each window is context (+1 without a start token) tokens of the training stream, after <|endoftext|>
    when the recipe has `bos`. In `repeat_fraction` of them a span of the window's own text is copied to
    a later position (a phrase occurring twice, as names do); in `synthetic_fraction` of them a sequence
    of random tokens is written twice, `gap` tokens apart, and the targets inside its first copy get no
    loss (they are unpredictable)."""
    seed, batch, context = recipe["seed"], recipe["batch"], recipe["context"]
    rng = np.random.default_rng([seed, step])
    body = context if bos_id is not None else context + 1
    starts = rng.integers(0, len(stream) - body, size=batch)
    x = stream[starts[:, None] + np.arange(body)[None]].astype(np.int32)
    if bos_id is not None:
        x = np.concatenate([np.full((batch, 1), bos_id, np.int32), x], axis=1)
    first = 1 if bos_id is not None else 0
    mask = np.ones((batch, context), np.float32)
    span, frac = recipe["repeat_span"], synthetic_fraction(recipe, step)
    for b in range(batch):
        if rng.random() < recipe["repeat_fraction"]:
            k = int(rng.integers(span[0], span[1] + 1))
            a = int(rng.integers(first, context + 1 - 2 * k + 1))
            d = int(rng.integers(a + k, context + 1 - k + 1))
            x[b, d:d + k] = x[b, a:a + k].copy()
        if rng.random() < frac:
            syn = recipe["synthetic"]
            n = int(rng.integers(syn["length"][0], syn["length"][1] + 1))
            gap = int(rng.integers(syn["gap"][0], syn["gap"][1] + 1))
            a = int(rng.integers(first, context + 1 - 2 * n - gap + 1))
            r = rng.integers(257, vocab_size, size=n)
            x[b, a:a + n] = r
            x[b, a + n + gap:a + 2 * n + gap] = r
            mask[b, max(0, a - 1):a + n - 1] = 0.0
    return x, mask


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


def train(run_dir, recipe, docs, checkpoint_every_s=240, eval_every=500, log_every=100, out=print):
    import jax
    import jax.numpy as jnp
    import optax

    import metrics
    import tinylm

    run_dir.mkdir(parents=True, exist_ok=True)
    tok, train_stream, val_stream = prepare_data(run_dir, recipe["vocab_size"], docs)
    V = tok.get_vocab_size()
    bos_id = tok.token_to_id(corpus.EOT) if recipe.get("bos") else None
    cfg = tinylm.make_config(V, recipe["d_model"], recipe["n_layers"], recipe["n_heads"], recipe["d_mlp"],
                             recipe["context"], recipe.get("positions", "learned"),
                             recipe.get("rope_base", 10000.0), bos_id)
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

    aux = recipe.get("aux_prev_token")

    def loss_fn(p, ids, mask):
        """Mean next-token loss over the weighted targets, plus the auxiliary previous-token loss."""
        losses, w = tinylm.token_losses(p, cfg, ids, return_weights=True)  # w (L, B, H, T, T)
        main = (losses * mask).sum() / mask.sum()
        if not aux:
            return main, (main, 0.0)
        T = w.shape[-1]
        prev = w[aux["layer"], :, aux["head"], jnp.arange(1, T), jnp.arange(0, T - 1)]
        aux_loss = -jnp.log(prev + 1e-6).mean()
        return main + aux["weight"] * aux_loss, (main, aux_loss)

    @jax.jit
    def step_fn(p, s, ids, mask):
        (_, (loss, aux_loss)), g = jax.value_and_grad(loss_fn, has_aux=True)(p, ids, mask)
        updates, s = opt.update(g, s, p)
        return optax.apply_updates(p, updates), s, loss, aux_loss

    t_last_ck = time.time()
    t0 = time.time() - elapsed
    window, aux_window, t_window = [], [], time.time()
    tokens_per_step = recipe["batch"] * recipe["context"]
    for step in range(start, steps):
        ids, mask = sample_batch(train_stream, recipe, step, cfg.get("bos_id"), V)
        params, opt_state, loss, aux_loss = step_fn(params, opt_state, jnp.asarray(ids), jnp.asarray(mask))
        window.append(loss)
        aux_window.append(aux_loss)
        done = step + 1
        if done % log_every == 0 or done == steps:
            losses = [float(x) for x in window]
            dt = time.time() - t_window
            rec = {"step": done, "loss": float(np.mean(losses)), "aux_loss": float(np.mean(aux_window)),
                   "synthetic_fraction": synthetic_fraction(recipe, step), "lr": float(sched(step)),
                   "tokens_per_s": len(losses) * tokens_per_step / dt, "elapsed_s": time.time() - t0}
            log.append(rec)
            out(f"step {done:6d}  loss {rec['loss']:.4f}  aux {rec['aux_loss']:.3f}  "
                f"synthetic {rec['synthetic_fraction']:.2f}  lr {rec['lr']:.2e}  "
                f"{rec['tokens_per_s']:,.0f} tok/s  {rec['elapsed_s']:.0f} s")
            window, aux_window, t_window = [], [], time.time()
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

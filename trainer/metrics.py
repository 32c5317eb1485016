"""Measurements shared by train.py (progress) and eval.py (the shipped model): held-out loss, count-based
baselines, the previous-token score and the induction score of every head."""

import math

import jax
import jax.numpy as jnp
import numpy as np

import tinylm


def val_windows(val, context, limit=None, bos_id=None):
    """Windows (N, context+1) over the held-out stream, each predicting `context` held-out tokens: without
    a start token, non-overlapping runs of context+1 tokens; with one, bos_id then `context` tokens, so
    that every held-out token is predicted once."""
    if bos_id is None:
        n = (len(val) - 1) // context
        n = n if limit is None else min(n, limit)
        idx = np.arange(n)[:, None] * context + np.arange(context + 1)[None]
        return val[idx].astype(np.int32)
    n = len(val) // context
    n = n if limit is None else min(n, limit)
    idx = np.arange(n)[:, None] * context + np.arange(context)[None]
    return np.concatenate([np.full((n, 1), bos_id, np.int32), val[idx].astype(np.int32)], axis=1)


def _batched(fn, arrays, batch=64):
    outs = [np.asarray(fn(arrays[i:i + batch])) for i in range(0, len(arrays), batch)]
    return np.concatenate(outs)


def model_val_loss(params, cfg, windows):
    fn = jax.jit(lambda ids: tinylm.token_losses(params, cfg, ids))
    return float(_batched(fn, windows).mean())


def prev_token_scores(params, cfg, windows):
    """[L, H]: mean attention weight from each position i ≥ 1 onto position i-1."""
    def fn(ids):
        _, w = tinylm.forward(params, cfg, ids[:, :-1], return_weights=True)  # (L, B, H, T, T)
        T = w.shape[-1]
        sub = w[..., jnp.arange(1, T), jnp.arange(0, T - 1)]  # (L, B, H, T-1)
        return jnp.transpose(sub.mean(axis=-1), (1, 0, 2))  # (B, L, H)
    return _batched(jax.jit(fn), windows).mean(axis=0)


def head_profiles(params, cfg, windows):
    """[L, H] dict of simple per-head statistics over held-out windows: mean weight on the current token,
    on the previous token, on position 0, on earlier copies of the current token, and the mean distance
    (in tokens) from query to key. Queries at positions ≥ 8, so that every head has choices."""
    def fn(ids):
        x = ids[:, :-1]
        _, w = tinylm.forward(params, cfg, x, return_weights=True)  # (L, B, H, T, T)
        T = w.shape[-1]
        q = jnp.arange(8, T)
        cur = w[..., q, q].mean(-1)
        prev = w[..., q, q - 1].mean(-1)
        first = w[..., q, 0].mean(-1)
        dist = (jnp.arange(T)[:, None] - jnp.arange(T)[None, :]).astype(jnp.float32)
        mean_dist = (w[..., q, :] * dist[q][None, None, None]).sum(-1).mean(-1)
        same = (x[:, :, None] == x[:, None, :]) & (jnp.arange(T)[:, None] > jnp.arange(T)[None, :])[None]
        same_w = (w * same[None, :, None]).sum(-1)[..., q].mean(-1)
        st = jnp.stack([cur, prev, first, same_w, mean_dist], axis=-1)  # (L, B, H, 5)
        return jnp.transpose(st, (1, 0, 2, 3))
    out = _batched(jax.jit(fn), windows).mean(axis=0)
    names = ["current", "previous", "first", "earlier_same_token", "mean_distance"]
    return {n: out[..., i] for i, n in enumerate(names)}


def repeated_random_tokens(cfg, n_seqs, seed, first_id=256):
    """n_seqs sequences of `half` uniformly random tokens (ordinary vocabulary, no special or single-byte
    tokens) followed by the same tokens again, after the start token if the model has one; half =
    context/2 (or (context−1)/2 with a start token). Returns (sequences, offset of the first copy, half)."""
    bos = cfg.get("bos_id")
    off = 0 if bos is None else 1
    half = (cfg["context"] - off) // 2
    rng = np.random.default_rng(seed)
    r = rng.integers(first_id, cfg["vocab_size"], size=(n_seqs, half))
    parts = ([] if bos is None else [np.full((n_seqs, 1), bos)]) + [r, r]
    return np.concatenate(parts, axis=1).astype(np.int32), off, half


def induction(params, cfg, n_seqs=128, seed=1234, first_id=256):
    """Per-head induction score on repeated random tokens, and the loss on each half.

    Score of a head: mean weight from each query in the second copy (position half+j) onto position j+1,
    the token that followed the earlier occurrence of the query's token. The losses are the mean
    next-token losses for predicting positions 1..half-1 (first copy) and half+1..2·half-1 (second copy)."""
    seqs, o, half = repeated_random_tokens(cfg, n_seqs, seed, first_id)

    def fn(ids):
        logits, w = tinylm.forward(params, cfg, ids, return_weights=True)
        logp = jax.nn.log_softmax(logits[:, :-1], axis=-1)
        loss = -jnp.take_along_axis(logp, ids[:, 1:, None], axis=-1)[..., 0]  # loss[t] predicts ids[t+1]
        q = jnp.arange(o + half, o + 2 * half)  # queries in the second copy
        sub = w[..., q, q - half + 1]  # (L, B, H, half): onto the token after the earlier occurrence
        scores = jnp.transpose(sub.mean(axis=-1), (1, 0, 2))  # (B, L, H)
        first = loss[:, o: o + half - 1].mean(axis=1)  # predicting first-copy tokens 1..half-1
        second = loss[:, o + half: o + 2 * half - 1].mean(axis=1)  # predicting second-copy tokens 1..half-1
        return jnp.concatenate([scores.reshape(ids.shape[0], -1), first[:, None], second[:, None]], axis=1)

    out = _batched(jax.jit(fn), seqs).mean(axis=0)
    L, H = cfg["n_layers"], cfg["n_heads"]
    return {"scores": out[: L * H].reshape(L, H), "first_half_loss": float(out[-2]),
            "second_half_loss": float(out[-1])}


def count_baselines(train, windows, vocab_size, ks=(0.001, 0.01, 0.1, 1.0)):
    """Unigram and bigram add-k models counted on the training stream, scored on the tokens the model
    predicts in `windows` (N, C+1): targets windows[:, 1:], bigram contexts windows[:, :-1]. For each, the k
    with the lowest held-out loss is reported, which flatters the baselines, never the model."""
    train = train.astype(np.int64)
    V = vocab_size
    prev = windows[:, :-1].reshape(-1).astype(np.int64)
    targets = windows[:, 1:].reshape(-1).astype(np.int64)
    uni = np.bincount(train, minlength=V).astype(np.float64)
    best_uni = None
    for k in ks:
        p = (uni + k) / (uni.sum() + k * V)
        loss = float(-np.log(p[targets]).mean())
        if best_uni is None or loss < best_uni[0]:
            best_uni = (loss, k)
    pair = train[:-1] * V + train[1:]
    uniq, counts = np.unique(pair, return_counts=True)
    prev_count = np.bincount(train[:-1], minlength=V).astype(np.float64)
    vpair = prev * V + targets
    pos = np.clip(np.searchsorted(uniq, vpair), 0, len(uniq) - 1)
    c = np.where(uniq[pos] == vpair, counts[pos], 0).astype(np.float64)
    best_bi = None
    for k in ks:
        p = (c + k) / (prev_count[prev] + k * V)
        loss = float(-np.log(p).mean())
        if best_bi is None or loss < best_bi[0]:
            best_bi = (loss, k)
    return {"unigram": best_uni[0], "unigram_k": best_uni[1], "bigram": best_bi[0], "bigram_k": best_bi[1]}


def summary(params, cfg, val, n_windows=256):
    w = val_windows(val, cfg["context"], n_windows, cfg.get("bos_id"))
    prev = prev_token_scores(params, cfg, w)
    ind = induction(params, cfg)
    return {"val_loss": model_val_loss(params, cfg, w), "prev_token": prev, "induction": ind}


# The rules that name a head from its profile (ARCHITECTURE.md: names are measured, never hand-written). The
# first rule that holds gives the name; thresholds are on held-out text (queries at positions ≥ 8).
HEAD_NAME_RULES = [
    ("induction", "induction ≥ 0.4 on repeated random tokens", lambda h: h["induction"] >= 0.4),
    ("previous token", "≥ 0.6 of its weight on token i−1", lambda h: h["prev"] >= 0.6),
    ("start/resting", "≥ 0.5 of its weight on the start token", lambda h: h["start"] >= 0.5),
    ("duplicate token", "≥ 0.3 on earlier copies of the query's own token", lambda h: h["duplicate"] >= 0.3),
    ("self", "≥ 0.5 of its weight on the query's own token", lambda h: h["self"] >= 0.5),
    ("local", "mean distance to its keys ≤ 3 tokens", lambda h: h["mean_distance"] <= 3.0),
    ("broad", "none of the above: weight spread over the context", lambda h: True),
]


def head_name(h):
    """The name of a head profile dict (keys prev, self, start, duplicate, induction, mean_distance)."""
    return next(name for name, _, rule in HEAD_NAME_RULES if rule(h))


def fmt_heads(m):
    return " | ".join(" ".join(f"{x:.2f}" for x in row) for row in np.asarray(m))


def nats(x):
    return f"{x:.3f}" if math.isfinite(x) else str(x)

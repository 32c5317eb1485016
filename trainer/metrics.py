"""Measurements shared by train.py (progress) and eval.py (the shipped model): held-out loss, count-based
baselines, the previous-token score and the induction score of every head."""

import math

import jax
import jax.numpy as jnp
import numpy as np

import tinylm


def val_windows(val, context, limit=None):
    """Non-overlapping windows of context+1 tokens over the held-out stream: (N, context+1)."""
    n = (len(val) - 1) // context
    if limit is not None:
        n = min(n, limit)
    idx = np.arange(n)[:, None] * context + np.arange(context + 1)[None]
    return val[idx].astype(np.int32)


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
    tokens) followed by the same tokens again; half = context/2."""
    half = cfg["context"] // 2
    rng = np.random.default_rng(seed)
    r = rng.integers(first_id, cfg["vocab_size"], size=(n_seqs, half))
    return np.concatenate([r, r], axis=1).astype(np.int32)


def induction(params, cfg, n_seqs=128, seed=1234, first_id=256):
    """Per-head induction score on repeated random tokens, and the loss on each half.

    Score of a head: mean weight from each query in the second copy (position half+j) onto position j+1,
    the token that followed the earlier occurrence of the query's token. The losses are the mean
    next-token losses for predicting positions 1..half-1 (first copy) and half+1..2·half-1 (second copy)."""
    seqs = repeated_random_tokens(cfg, n_seqs, seed, first_id)
    half = cfg["context"] // 2

    def fn(ids):
        logits, w = tinylm.forward(params, cfg, ids, return_weights=True)
        logp = jax.nn.log_softmax(logits[:, :-1], axis=-1)
        loss = -jnp.take_along_axis(logp, ids[:, 1:, None], axis=-1)[..., 0]  # (B, 2h-1): predicts 1..2h-1
        q = jnp.arange(half, 2 * half)
        sub = w[..., q, q - half + 1]  # (L, B, H, half)
        scores = jnp.transpose(sub.mean(axis=-1), (1, 0, 2))  # (B, L, H)
        first = loss[:, : half - 1].mean(axis=1)
        second = loss[:, half:].mean(axis=1)
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
    w = val_windows(val, cfg["context"], n_windows)
    prev = prev_token_scores(params, cfg, w)
    ind = induction(params, cfg)
    return {"val_loss": model_val_loss(params, cfg, w), "prev_token": prev, "induction": ind}


def fmt_heads(m):
    return " | ".join(" ".join(f"{x:.2f}" for x in row) for row in np.asarray(m))


def nats(x):
    return f"{x:.3f}" if math.isfinite(x) else str(x)

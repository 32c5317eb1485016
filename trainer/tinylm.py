"""The model in JAX: parameters named as in model/FORMAT.md, a batched forward pass for training, and a
single-sequence forward pass that returns every intermediate the engine traces (for golden.json).

The math follows model/FORMAT.md line by line: pre-LayerNorm, causal softmax attention with no biases,
positions either learned (added to the embeddings) or rotary (queries and keys turned by their position,
adjacent pairs (x[2i], x[2i+1]) as llama.cpp rotates them), optional GELU (tanh) MLP, final LayerNorm,
tied unembedding.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

LN_EPS = 1e-5


def make_config(vocab_size, d_model=128, n_layers=2, n_heads=4, d_mlp=0, context=64, positions="learned",
                rope_base=10000.0, bos_id=None):
    """The config stored in model.safetensors. positions "learned" (pos_emb added to E) or "rope" (no
    pos_emb; queries and keys rotated). bos_id: the start token every sequence begins with, or None."""
    if d_model % n_heads:
        raise ValueError(f"d_model {d_model} must be a multiple of n_heads {n_heads}")
    if positions not in ("learned", "rope"):
        raise ValueError(f"positions: expected 'learned' or 'rope', found {positions!r}")
    cfg = {"vocab_size": vocab_size, "d_model": d_model, "n_layers": n_layers, "n_heads": n_heads,
           "d_head": d_model // n_heads, "d_mlp": d_mlp, "context": context, "ln_eps": LN_EPS}
    if positions == "rope":
        cfg.update({"positions": "rope", "rope_base": float(rope_base)})
    if bos_id is not None:
        cfg["bos_id"] = int(bos_id)
    return cfg


def is_rope(cfg):
    return cfg.get("positions", "learned") == "rope"


def rope_tables(T, Dh, base):
    """cos, sin (T, Dh/2): angle of pair i at position t = t · base^(−2i/Dh)."""
    inv = base ** (-np.arange(0, Dh, 2, dtype=np.float64) / Dh)
    ang = np.arange(T, dtype=np.float64)[:, None] * inv[None]
    return np.cos(ang), np.sin(ang)


def rotate(x, cos, sin):
    """Rotary positions: each adjacent pair (x[2i], x[2i+1]) of x (..., T, Dh) turned by its angle."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    r0 = x0 * cos - x1 * sin
    r1 = x0 * sin + x1 * cos
    return jnp.stack([r0, r1], axis=-1).reshape(x.shape)


def sinusoids(C, D, scale):
    """The fixed position code of Vaswani et al. (sin/cos at geometric frequencies), times `scale`."""
    pos = np.arange(C)[:, None]
    freq = 1.0 / (10000.0 ** (np.arange(0, D, 2) / D))[None]
    out = np.zeros((C, D), np.float32)
    out[:, 0::2] = np.sin(pos * freq)
    out[:, 1::2] = np.cos(pos * freq)
    return out * scale


def init_params(cfg, seed, pos_init="normal"):
    """Normal(0, 0.02) weights; the two residual-writing projections are scaled by 1/sqrt(2·layers).
    pos_init "sinusoid" starts the (still learned) position embeddings from sin/cos waves with the same
    standard deviation as the token embeddings instead of noise."""
    rng = np.random.default_rng(seed)
    D, V, C, F, L = cfg["d_model"], cfg["vocab_size"], cfg["context"], cfg["d_mlp"], cfg["n_layers"]
    std, out_std = 0.02, 0.02 / math.sqrt(2 * L)

    def normal(shape, s):
        return jnp.asarray(rng.normal(0.0, s, size=shape).astype(np.float32))

    p = {"tok_emb": normal((V, D), std), "pos_emb": normal((C, D), std)}
    if is_rope(cfg):
        del p["pos_emb"]
    elif pos_init == "sinusoid":
        p["pos_emb"] = jnp.asarray(sinusoids(C, D, std * math.sqrt(2.0)))
    elif pos_init != "normal":
        raise ValueError(f"pos_init: expected 'normal' or 'sinusoid', found {pos_init!r}")
    for i in range(L):
        pre = f"layers.{i}."
        p[pre + "ln1.weight"] = jnp.ones((D,), jnp.float32)
        p[pre + "ln1.bias"] = jnp.zeros((D,), jnp.float32)
        for name in ("w_q", "w_k", "w_v"):
            p[pre + "attn." + name] = normal((D, D), std)
        p[pre + "attn.w_o"] = normal((D, D), out_std)
        if F > 0:
            p[pre + "ln2.weight"] = jnp.ones((D,), jnp.float32)
            p[pre + "ln2.bias"] = jnp.zeros((D,), jnp.float32)
            p[pre + "mlp.w_in"] = normal((D, F), std)
            p[pre + "mlp.b_in"] = jnp.zeros((F,), jnp.float32)
            p[pre + "mlp.w_out"] = normal((F, D), out_std)
            p[pre + "mlp.b_out"] = jnp.zeros((D,), jnp.float32)
    p["ln_f.weight"] = jnp.ones((D,), jnp.float32)
    p["ln_f.bias"] = jnp.zeros((D,), jnp.float32)
    return p


def layer_norm(x, w, b):
    mean = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=-1, keepdims=True)
    return (x - mean) / jnp.sqrt(var + LN_EPS) * w + b


def gelu_tanh(x):
    return 0.5 * x * (1.0 + jnp.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def forward(p, cfg, ids, return_weights=False):
    """ids (B, T) int32 → logits (B, T, V); optionally the attention weights (L, B, H, T, T)."""
    B, T = ids.shape
    H, Dh = cfg["n_heads"], cfg["d_head"]
    rope = is_rope(cfg)
    if rope:
        cos, sin = (jnp.asarray(a, p["tok_emb"].dtype)[:, None, :] for a in rope_tables(T, Dh, cfg["rope_base"]))
        e = p["tok_emb"][ids]
    else:
        e = p["tok_emb"][ids] + p["pos_emb"][:T][None]
    mask = jnp.tril(jnp.ones((T, T), bool))
    all_w = []
    for i in range(cfg["n_layers"]):
        pre = f"layers.{i}."
        x = layer_norm(e, p[pre + "ln1.weight"], p[pre + "ln1.bias"])
        q = (x @ p[pre + "attn.w_q"]).reshape(B, T, H, Dh)
        k = (x @ p[pre + "attn.w_k"]).reshape(B, T, H, Dh)
        v = (x @ p[pre + "attn.w_v"]).reshape(B, T, H, Dh)
        if rope:  # cos, sin (T, 1, Dh/2) broadcast over (B, T, H, Dh/2)
            q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        s = jnp.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(Dh)
        s = jnp.where(mask, s, -jnp.inf)
        w = jax.nn.softmax(s, axis=-1)
        z = jnp.einsum("bhqk,bkhd->bqhd", w, v).reshape(B, T, H * Dh)
        e = e + z @ p[pre + "attn.w_o"]
        if cfg["d_mlp"] > 0:
            x2 = layer_norm(e, p[pre + "ln2.weight"], p[pre + "ln2.bias"])
            h = gelu_tanh(x2 @ p[pre + "mlp.w_in"] + p[pre + "mlp.b_in"])
            e = e + h @ p[pre + "mlp.w_out"] + p[pre + "mlp.b_out"]
        if return_weights:
            all_w.append(w)
    x = layer_norm(e, p["ln_f.weight"], p["ln_f.bias"])
    logits = x @ p["tok_emb"].T
    if return_weights:
        return logits, jnp.stack(all_w)
    return logits


def token_losses(p, cfg, ids, return_weights=False):
    """ids (B, T+1) → per-position next-token losses (B, T) in nats (and the attention weights)."""
    out = forward(p, cfg, ids[:, :-1], return_weights)
    logits = out[0] if return_weights else out
    logp = jax.nn.log_softmax(logits, axis=-1)
    loss = -jnp.take_along_axis(logp, ids[:, 1:, None], axis=-1)[..., 0]
    return (loss, out[1]) if return_weights else loss


def trace(p, cfg, ids):
    """One sequence, every intermediate of model/FORMAT.md, as NumPy arrays (in the parameters' dtype:
    export.golden runs it in float64 so that the golden vectors carry no float32 rounding of their own)."""
    ids = jnp.asarray(ids, jnp.int32)
    T = ids.shape[0]
    H, Dh = cfg["n_heads"], cfg["d_head"]
    rope = is_rope(cfg)
    if rope:
        cos, sin = (jnp.asarray(a, p["tok_emb"].dtype) for a in rope_tables(T, Dh, cfg["rope_base"]))
        e = p["tok_emb"][ids]
    else:
        e = p["tok_emb"][ids] + p["pos_emb"][:T]
    out = {"embeddings": e, "layers": []}
    mask = jnp.tril(jnp.ones((T, T), bool))
    for i in range(cfg["n_layers"]):
        pre = f"layers.{i}."
        x = layer_norm(e, p[pre + "ln1.weight"], p[pre + "ln1.bias"])
        q = (x @ p[pre + "attn.w_q"]).reshape(T, H, Dh).transpose(1, 0, 2)
        k = (x @ p[pre + "attn.w_k"]).reshape(T, H, Dh).transpose(1, 0, 2)
        v = (x @ p[pre + "attn.w_v"]).reshape(T, H, Dh).transpose(1, 0, 2)
        rq, rk = (rotate(q, cos, sin), rotate(k, cos, sin)) if rope else (q, k)
        s = jnp.einsum("hqd,hkd->hqk", rq, rk)
        scaled = s / math.sqrt(Dh)
        w = jax.nn.softmax(jnp.where(mask, scaled, -jnp.inf), axis=-1)
        z = jnp.einsum("hqk,hkd->hqd", w, v)
        w_o = p[pre + "attn.w_o"].reshape(H, Dh, -1)
        delta = sum(z[h] @ w_o[h] for h in range(H))
        updated = e + delta
        layer = {"normed": x, "queries": q, "keys": k, "values": v, "scores": s, "scaled": scaled,
                 "weights": w, "mixed": z, "delta": delta, "updated": updated, "mlp_out": None}
        if rope:
            layer.update({"rotated_queries": rq, "rotated_keys": rk})
        e = updated
        if cfg["d_mlp"] > 0:
            x2 = layer_norm(e, p[pre + "ln2.weight"], p[pre + "ln2.bias"])
            h = gelu_tanh(x2 @ p[pre + "mlp.w_in"] + p[pre + "mlp.b_in"])
            mlp_out = h @ p[pre + "mlp.w_out"] + p[pre + "mlp.b_out"]
            layer["mlp_out"] = mlp_out
            e = e + mlp_out
        layer["output"] = e
        out["layers"].append(layer)
    x = layer_norm(e[-1], p["ln_f.weight"], p["ln_f.bias"])
    logits = x @ p["tok_emb"].T
    out["logits_last"] = logits
    out["probs_last"] = jax.nn.softmax(logits)
    return jax.tree_util.tree_map(np.asarray, out)

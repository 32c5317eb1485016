#!/usr/bin/env python3
"""Independent NumPy reference of the forward pass in model/FORMAT.md.

It shares no code with src/: it reads the weights with the `safetensors` package, expands them to f32
exactly as FORMAT.md says (F16 -> f32; I8 -> f32(q) * scale[row] computed in f32), then runs every
step of the forward pass in float64 and rounds each stored intermediate to f32 at the end. Numbers are
written with 9 significant digits (enough to round-trip any f32).

Usage:
    python tests/reference/reference.py MODEL.safetensors TOKENIZER.json OUT_golden.json TEXT...
(`make_tiny.py` calls `write_golden` directly for the tiny test models.)
"""

import json
import math
import sys

import numpy as np
from safetensors import safe_open
from tokenizers import Tokenizer

FORMAT = "attention-explorer/1"
TOLERANCE = 1e-4


def load(path):
    """Returns (config dict, name, {tensor name: f32 array}) with I8 and F16 expanded to f32."""
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
        raw = {k: f.get_tensor(k) for k in f.keys()}
    if meta.get("format") != FORMAT:
        raise ValueError(f"metadata format: expected {FORMAT!r}, found {meta.get('format')!r}")
    cfg = json.loads(meta["config"])
    weights = {}
    for name, arr in raw.items():
        if name.endswith(".scale"):
            continue
        if arr.dtype == np.int8:
            scale = raw[name + ".scale"].astype(np.float32)
            weights[name] = arr.astype(np.float32) * scale[:, None]  # f32 product, as the engine does
        else:
            weights[name] = arr.astype(np.float32)
        if not np.all(np.isfinite(weights[name])):
            raise ValueError(f"tensor {name}: non-finite value")
    return cfg, meta.get("name", ""), weights


def layer_norm(x, weight, bias, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)  # biased variance
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def softmax_rows(x):
    m = np.max(x, axis=-1, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(axis=-1, keepdims=True)


def rotate_pairs(x, base):
    """Rotary positions on x (H, T, Dh): the pair (x[2i], x[2i+1]) at position t turns by the angle
    t · base^(−2i/Dh), written as the 2×2 rotation it is."""
    H, T, Dh = x.shape
    out = np.empty_like(x)
    for t in range(T):
        for i in range(Dh // 2):
            a = t * base ** (-2.0 * i / Dh)
            c, s = math.cos(a), math.sin(a)
            x0, x1 = x[:, t, 2 * i], x[:, t, 2 * i + 1]
            out[:, t, 2 * i] = c * x0 - s * x1
            out[:, t, 2 * i + 1] = s * x0 + c * x1
    return out


def forward(cfg, w, ids):
    """The forward pass of FORMAT.md in float64. Returns the golden case dict (numpy arrays)."""
    W = {k: v.astype(np.float64) for k, v in w.items()}
    T = len(ids)
    H, Dh, eps = cfg["n_heads"], cfg["d_head"], cfg["ln_eps"]
    rope = cfg.get("positions", "learned") == "rope"
    assert 1 <= T <= cfg["context"], f"T={T} outside 1..={cfg['context']}"
    # embeddings (T, D) = tok_emb[ids] (+ pos_emb[0..T] with learned positions)
    E = W["tok_emb"][np.array(ids)]
    if not rope:
        E = E + W["pos_emb"][:T]
    case = {"ids": list(ids), "embeddings": E, "layers": []}
    causal = np.triu(np.ones((T, T), dtype=bool), k=1)  # True where key j > query i
    for i in range(cfg["n_layers"]):
        p = f"layers.{i}."
        X = layer_norm(E, W[p + "ln1.weight"], W[p + "ln1.bias"], eps)  # normed (T, D)
        Qa, Ka, Va = X @ W[p + "attn.w_q"], X @ W[p + "attn.w_k"], X @ W[p + "attn.w_v"]
        # head h owns columns h*Dh..(h+1)*Dh: (T, H*Dh) -> (H, T, Dh)
        Q = Qa.reshape(T, H, Dh).transpose(1, 0, 2)
        K = Ka.reshape(T, H, Dh).transpose(1, 0, 2)
        V = Va.reshape(T, H, Dh).transpose(1, 0, 2)
        rotated = {}
        if rope:  # rotate: queries and keys turned by their position
            rotated = {"rotated_queries": rotate_pairs(Q, cfg["rope_base"]),
                       "rotated_keys": rotate_pairs(K, cfg["rope_base"])}
        Qr, Kr = (rotated["rotated_queries"], rotated["rotated_keys"]) if rope else (Q, K)
        S = Qr @ Kr.transpose(0, 2, 1)  # scores (H, T, T)
        Ss = S / math.sqrt(Dh)  # scaled
        M = np.where(causal[None], -np.inf, Ss)  # masked
        A = softmax_rows(M)  # weights
        Z = A @ V  # mixed (H, T, Dh)
        w_o = W[p + "attn.w_o"]
        dE = sum(Z[h] @ w_o[h * Dh:(h + 1) * Dh] for h in range(H))  # delta (T, D)
        U = E + dE  # updated
        if cfg["d_mlp"] > 0:
            Xn = layer_norm(U, W[p + "ln2.weight"], W[p + "ln2.bias"], eps)
            Hm = gelu_tanh(Xn @ W[p + "mlp.w_in"] + W[p + "mlp.b_in"])  # (T, F)
            mlp_out = Hm @ W[p + "mlp.w_out"] + W[p + "mlp.b_out"]  # (T, D)
            out = U + mlp_out
        else:
            mlp_out = None
            out = U
        case["layers"].append({
            "normed": X, "queries": Q, "keys": K, "values": V, "scores": S, "scaled": Ss,
            "weights": A, "mixed": Z, "delta": dE, "updated": U, "mlp_out": mlp_out, "output": out,
            **rotated,
        })
        E = out
    last = layer_norm(E[T - 1], W["ln_f.weight"], W["ln_f.bias"], eps)
    logits = W["tok_emb"] @ last  # (V)
    case["logits_last"] = logits
    case["probs_last"] = softmax_rows(logits)
    return case


def _to_json(x):
    """f32-rounded values as plain floats with 9 significant digits (None stays null)."""
    if x is None:
        return None
    if isinstance(x, np.ndarray):
        return [_to_json(v) for v in x] if x.ndim > 0 else _to_json(x.item())
    if isinstance(x, dict):
        return {k: _to_json(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_to_json(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return float(f"{float(np.float32(x)):.9g}")
    return x


def encode(cfg, tok, text):
    """The ids the engine analyses: the start token first when the model has one (`bos_id`)."""
    ids = tok.encode(text).ids
    return ([cfg["bos_id"]] if "bos_id" in cfg else []) + ids


def golden(model_path, tokenizer_path, texts):
    cfg, name, w = load(model_path)
    tok = Tokenizer.from_file(tokenizer_path)
    cases = []
    for text in texts:
        ids = encode(cfg, tok, text)
        case = forward(cfg, w, ids)
        cases.append({"text": text, **case})
    return {"model": name, "tolerance": TOLERANCE, "cases": _to_json(cases)}


def write_golden(model_path, tokenizer_path, texts, out_path):
    data = golden(model_path, tokenizer_path, texts)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    return data


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    write_golden(sys.argv[1], sys.argv[2], sys.argv[4:], sys.argv[3])

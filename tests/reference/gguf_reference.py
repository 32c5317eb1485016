#!/usr/bin/env python3
"""Independent NumPy reference of a Llama-family GGUF model (SmolLM2-135M), in float64.

It shares no code with src/: llama.cpp's own Python reader (PyPI `gguf`) reads and dequantises every
tensor (Q4_0, Q4_1, Q8_0, F16 → f32), the Python `tokenizers` library rebuilds the tokenizer from the
file's tokens and merges, and the forward pass below runs every step in float64:

    E      = token_embd[ids]                                   (T, D)       embeddings (no positions)
    per layer:
      X    = RMSNorm(E) · attn_norm                            (T, D)       normed
      Q    = X · W_Qᵀ (per query head), K, V = X · W_Kᵀ, X · W_Vᵀ (per key/value head)
      Q', K' = rotate adjacent pairs (x[2i], x[2i+1]) by t · base^(−2i/d_head)   rotated_queries/keys
      S_h  = Q'_h · K'_{g(h)}ᵀ, g(h) = h // (n_heads / n_kv_heads)    scores; scaled = S/√d_head
      A_h  = softmax(scaled + causal mask)                    weights; mixed = A_h · V_{g(h)}
      ΔE   = concat_h(mixed_h) · W_Oᵀ                         delta; updated = E + ΔE
      M    = W_down · (silu(W_gate·RMSNorm(U)·ffn_norm) ⊙ W_up·RMSNorm(U)·ffn_norm)   mlp_out
      E    = U + M                                             output
    logits = RMSNorm(E_last) · output_norm · W_outᵀ (token_embd when tied)

GGUF stores llama's Q and K rows already permuted for rotating adjacent pairs (llama.cpp's "normal"
rope), so the rotation above applies to the file's rows as they are.

Usage:
    python tests/reference/gguf_reference.py MODEL.gguf OUT_golden.json [--layers 0,1,15,29] TEXT...
    python tests/reference/gguf_reference.py MODEL.gguf --top TEXT      # the top next tokens
    python tests/reference/gguf_reference.py MODEL.gguf OUT_tokens.json --tokenize   # tokenizer parity
"""

import argparse
import json
import math
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

TOLERANCE = 1e-3


def field(reader, key):
    f = reader.fields[key]
    return f.contents()


class Model:
    def __init__(self, path):
        r = GGUFReader(path)
        arch = field(r, "general.architecture")
        if arch != "llama":
            raise ValueError(f"architecture: expected llama, found {arch!r}")
        p = "llama."
        self.n_layers = int(field(r, p + "block_count"))
        self.d_model = int(field(r, p + "embedding_length"))
        self.n_heads = int(field(r, p + "attention.head_count"))
        self.n_kv_heads = int(field(r, p + "attention.head_count_kv"))
        self.d_head = self.d_model // self.n_heads
        self.eps = float(field(r, p + "attention.layer_norm_rms_epsilon"))
        self.rope_base = float(field(r, p + "rope.freq_base"))
        self.reader = r
        self.tensors = {t.name: t for t in r.tensors}
        self._cache = {}

    def w(self, name):
        """A tensor dequantised to f32 by the gguf package, then widened to float64: (rows, cols)."""
        if name not in self._cache:
            t = self.tensors[name]
            a = dequantize(t.data, t.tensor_type)
            shape = [int(x) for x in reversed(t.shape.tolist())]  # GGUF ne0 is the innermost dimension
            self._cache[name] = np.asarray(a, np.float32).reshape(shape).astype(np.float64)
        return self._cache[name]

    def output_weight(self):
        return self.w("output.weight") if "output.weight" in self.tensors else self.w("token_embd.weight")


def tokenizer(model):
    """The file's tokenizer rebuilt with the Python `tokenizers` library: byte-level BPE from
    tokenizer.ggml.tokens and .merges, pre-tokenizer `smollm` = digits split one by one, then byte-level;
    control and user-defined tokens (token_type 3 and 4) are special added tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    r = model.reader
    pre = field(r, "tokenizer.ggml.pre")
    if pre != "smollm":
        raise ValueError(f"tokenizer.ggml.pre: expected smollm, found {pre!r}")
    tokens = field(r, "tokenizer.ggml.tokens")
    types = field(r, "tokenizer.ggml.token_type")
    merges = [tuple(m.split(" ", 1)) for m in field(r, "tokenizer.ggml.merges")]
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    from tokenizers import AddedToken
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                            for t, ty in zip(tokens, types) if int(ty) in (3, 4)])
    return tok


def rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def rotate_pairs(x, base):
    """x (H, T, Dh): the pair (x[2i], x[2i+1]) at position t turned by t · base^(−2i/Dh)."""
    H, T, Dh = x.shape
    i = np.arange(Dh // 2, dtype=np.float64)
    ang = np.arange(T, dtype=np.float64)[:, None] * base ** (-2.0 * i / Dh)[None]  # (T, Dh/2)
    c, s = np.cos(ang)[None], np.sin(ang)[None]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = x0 * c - x1 * s
    out[..., 1::2] = x0 * s + x1 * c
    return out


def softmax(x):
    m = np.max(x, axis=-1, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(axis=-1, keepdims=True)


def forward(m, ids, keep_layers=()):
    """Returns (case dict with the kept layers' intermediates, logits of the last position)."""
    T, H, G, Dh = len(ids), m.n_heads, m.n_kv_heads, m.d_head
    E = m.w("token_embd.weight")[np.asarray(ids)]
    case = {"ids": list(ids), "embeddings": E, "layers": {}}
    causal = np.triu(np.ones((T, T), bool), k=1)
    for li in range(m.n_layers):
        b = f"blk.{li}."
        X = rms_norm(E, m.w(b + "attn_norm.weight"), m.eps)
        Q = (X @ m.w(b + "attn_q.weight").T).reshape(T, H, Dh).transpose(1, 0, 2)  # (H, T, Dh)
        K = (X @ m.w(b + "attn_k.weight").T).reshape(T, G, Dh).transpose(1, 0, 2)  # (G, T, Dh)
        V = (X @ m.w(b + "attn_v.weight").T).reshape(T, G, Dh).transpose(1, 0, 2)
        Qr, Kr = rotate_pairs(Q, m.rope_base), rotate_pairs(K, m.rope_base)
        kv = np.arange(H) // (H // G)  # query head h reads key/value head kv[h]
        S = Qr @ Kr[kv].transpose(0, 2, 1)  # (H, T, T)
        Ss = S / math.sqrt(Dh)
        A = softmax(np.where(causal[None], -np.inf, Ss))
        Z = A @ V[kv]  # (H, T, Dh)
        dE = Z.transpose(1, 0, 2).reshape(T, H * Dh) @ m.w(b + "attn_output.weight").T
        U = E + dE
        Xn = rms_norm(U, m.w(b + "ffn_norm.weight"), m.eps)
        gate = Xn @ m.w(b + "ffn_gate.weight").T
        up = Xn @ m.w(b + "ffn_up.weight").T
        M = (gate / (1.0 + np.exp(-gate)) * up) @ m.w(b + "ffn_down.weight").T
        out = U + M
        if li in keep_layers:
            case["layers"][li] = {
                "normed": X, "queries": Q, "keys": K, "rotated_queries": Qr, "rotated_keys": Kr, "values": V,
                "scores": S, "scaled": Ss, "weights": A, "mixed": Z, "delta": dE, "updated": U,
                "mlp_out": M, "output": out,
            }
        E = out
    last = rms_norm(E[-1], m.w("output_norm.weight"), m.eps)
    logits = m.output_weight() @ last
    case["logits_last"] = logits
    case["probs_last"] = softmax(logits)
    return case


def _to_json(x):
    if x is None:
        return None
    if isinstance(x, np.ndarray):
        return [_to_json(v) for v in x] if x.ndim > 0 else _to_json(x.item())
    if isinstance(x, dict):
        return {str(k): _to_json(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_to_json(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return float(f"{float(np.float32(x)):.7g}")
    return x


def golden(path, texts, layers):
    m = Model(path)
    tok = tokenizer(m)
    cases = []
    for text in texts:
        ids = tok.encode(text).ids
        case = forward(m, ids, set(layers))
        top = np.argsort(-case["probs_last"])[:5]
        case["top_tokens"] = [{"id": int(i), "text": tok.decode([int(i)]), "prob": float(case["probs_last"][i])}
                              for i in top]
        cases.append({"text": text, **case})
    return {"model": field(m.reader, "general.name"), "tolerance": TOLERANCE, "layers": list(layers),
            "cases": _to_json(cases)}


PARITY_TEXTS = [
    "The capital of France is", "Hello, world!", "hello world", " leading space", "trailing space ",
    "two  spaces", "three   spaces here", "\tTab\tseparated", "line one\nline two", "\n\n\nthree newlines",
    "crlf\r\nline", "  \n  mixed whitespace  \n", "I'm here", "don't", "they'll", "we've", "you're", "she'd",
    "it's", "O'Neil's", "'quoted'", "\"double quoted\"", "rock 'n' roll", "12345", "3.14159", "1,000,000",
    "in 2024 there were 365 days", "phone: +1-555-0100", "0x1F", "v1.2.3-beta", "99 bottles", "a1b2c3",
    "١٢٣ Arabic digits", "४२ Devanagari digits", "x² + y³", "Ⅷ and ⅻ", "½ cup", "①②③", "café", "naïve",
    "Ångström", "straße", "Ελληνικά", "Русский текст", "中文文本", "日本語のテキスト", "한국어", "עברית", "العربية",
    "हिन्दी", "ไทย", "emoji 😀", "family 👨‍👩‍👧‍👦", "flags 🇫🇷🇩🇪", "skin 👍🏽", "🦊🦊🦊", "a🦊b", "✓ done", "→ arrow",
    "€100", "£5.99", "¥1000", "100%", "#hashtag", "@mention", "user@example.com", "https://example.com/a?b=c&d=e",
    "C:\\Users\\name", "/usr/local/bin", "def f(x):\n    return x ** 2", "for (int i = 0; i < n; i++) {}",
    "if a != b and c >= d:", "x = [1, 2, 3]", "{\"key\": \"value\"}", "<html><body></body></html>",
    "SELECT * FROM t WHERE id = 1;", "#include <stdio.h>", "fn main() { println!(\"hi\"); }", "λx.x",
    "<|im_start|>user\nhello<|im_end|>", "<|endoftext|>", "a<|endoftext|>b", "<|im_start|><|im_end|>",
    "<|im_start", "im_end|>", "<|endoftext|", "<repo_name>x<file_sep>y", "<filename>a.py", "<gh_stars>10",
    "Mr Dursley said hello. Mr Dursley", "a fluffy blue creature roamed the verdant forest",
    "The quick brown fox jumps over the lazy dog.", "THE QUICK BROWN FOX", "CamelCaseWord", "snake_case_word",
    "kebab-case-word", "ALLCAPS", "MiXeD cAsE", "...", "?!?!", "---", "***", "___", "!!!", "a.b.c", "e.g.", "i.e.,",
    "Mr. Smith", "U.S.A.", "Dr. Who?", "(parenthetical)", "[bracketed]", "{braced}", "semi;colon", "colon: yes",
    "  ", " ", "\n", "\t", "a", "A", "0", "!", "ab", "abc", "antidisestablishmentarianism",
    "supercalifragilisticexpialidocious", "pneumonoultramicroscopicsilicovolcanoconiosis",
    "control \x04 byte", "\x06\x13\x14", "bell\x07", "nul\x00char", "del\x7f", "\x1d group",
    "plane four \U00040000 char", "\U00080000\U00080001", "private \ue000 use", "bom \ufeff", "zero\u200bwidth",
    "nbsp\u00a0space", "em\u2003space", "ideographic\u3000space", "soft\u00adhyphen", "combining e\u0301",
    "Zalgo z\u0351\u0352\u0353", "RTL \u202eevil", "tab\tand\nnewline\rcarriage",
]


def parity_texts(n=200, seed=7):
    """PARITY_TEXTS, then seeded random strings from a pool of every kind of character above."""
    rng = np.random.default_rng(seed)
    pool = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n\t.,;:!?'\"-_()[]{}<>/\\|@#$%^&*+=~`")
    pool += list("éñüßçøåæœÆÉ€£¥©®°±×÷²³½¼ЖжПпΩωπλ中文日本한국العربيةहिन्दी😀🦊👍🏽✓→①Ⅷ٣४") + ["\x04", "\u200b", "\u00a0", "'s", "'ll", "<|im_start|>", "<|endoftext|>"]
    texts = list(PARITY_TEXTS)
    while len(texts) < n:
        k = int(rng.integers(1, 40))
        texts.append("".join(pool[int(i)] for i in rng.integers(0, len(pool), size=k)))
    return texts


def tokenize_parity(path):
    tok = tokenizer(Model(path))
    texts = parity_texts()
    return {"model": path.split("/")[-1], "texts": texts, "ids": [tok.encode(t).ids for t in texts]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--layers", default="0,1,15,29")
    ap.add_argument("--top", action="store_true", help="print the top next tokens of each text")
    ap.add_argument("--tokenize", action="store_true", help="write the tokenizer parity file (texts and ids)")
    ap.add_argument("texts", nargs="*")
    args = ap.parse_args()
    if args.tokenize:
        data = tokenize_parity(args.model)
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
        return
    if args.top:
        m = Model(args.model)
        tok = tokenizer(m)
        texts = ([args.out] if args.out else []) + args.texts
        for text in texts:
            case = forward(m, tok.encode(text).ids)
            top = np.argsort(-case["probs_last"])[:5]
            print(repr(text), [(tok.decode([int(i)]), round(float(case["probs_last"][i]), 3)) for i in top])
        return
    data = golden(args.model, args.texts, [int(x) for x in args.layers.split(",")])
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())

"""Export a trained model to the files of model/FORMAT.md, and check an exported directory.

    trainer/.venv/bin/python trainer/export.py [--run main] [--out model]   # from the latest checkpoint
    trainer/.venv/bin/python trainer/export.py --check model                 # verify an export

Weights: every 2-D tensor is stored as int8 with one f32 scale per row (value = q · scale[row], scale =
max|row| / 127); 1-D tensors as f32. golden.json is the JAX trace (tinylm.trace) of the *dequantised*
weights, i.e. exactly the numbers the engine sees. tokenizer_parity.json holds ids from the `tokenizers`
library.
"""

import argparse
import json
import pickle
import shutil
import sys
from pathlib import Path

import numpy as np

TRAINER = Path(__file__).resolve().parent
sys.path.insert(0, str(TRAINER))
# The one NumPy forward pass of the project (it shares no code with src/ or with tinylm.py): check()
# compares the JAX golden trace against it.
sys.path.insert(0, str(TRAINER.parent / "tests" / "reference"))

MODEL_NAME = "attention-explorer tiny-2L v2"
GOLDEN_TOLERANCE = 1e-4
GOLDEN_SENTENCES = [
    "a fluffy blue creature roamed the verdant forest",
    "The quick brown fox jumps over the lazy dog.",
    "The President said that the Congress",
    "Call me Ishmael. Some years ago",
    "The cat sat on the mat. The cat sat on the",
    "In 1776, 13 colonies declared independence!",
    "Mr Dursley said hello. Mr Dursley",
]


def quantize(params):
    """{name: float32 array} → {tensor name: array} with int8 + '.scale' for 2-D tensors."""
    out = {}
    for name, w in params.items():
        w = np.asarray(w, np.float32)
        if w.ndim == 2:
            amax = np.abs(w).max(axis=1)
            scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
            q = np.clip(np.rint(w / scale[:, None]), -127, 127).astype(np.int8)
            out[name] = q
            out[name + ".scale"] = scale
        else:
            out[name] = w
    return out


def dequantize(tensors):
    """Tensors as stored → {name: float32 array}, exactly as model/FORMAT.md defines the values."""
    params = {}
    for name, t in tensors.items():
        if name.endswith(".scale"):
            continue
        if t.dtype == np.int8:
            params[name] = (t.astype(np.float32) * tensors[name + ".scale"][:, None]).astype(np.float32)
        else:
            params[name] = t.astype(np.float32)
    return params


def expected_shapes(cfg):
    D, V, C, F, H, Dh = (cfg["d_model"], cfg["vocab_size"], cfg["context"], cfg["d_mlp"], cfg["n_heads"],
                         cfg["d_head"])
    shapes = {"tok_emb": (V, D), "ln_f.weight": (D,), "ln_f.bias": (D,)}
    if cfg.get("positions", "learned") == "learned":
        shapes["pos_emb"] = (C, D)
    for i in range(cfg["n_layers"]):
        pre = f"layers.{i}."
        shapes.update({pre + "ln1.weight": (D,), pre + "ln1.bias": (D,), pre + "attn.w_q": (D, H * Dh),
                       pre + "attn.w_k": (D, H * Dh), pre + "attn.w_v": (D, H * Dh),
                       pre + "attn.w_o": (H * Dh, D)})
        if F > 0:
            shapes.update({pre + "ln2.weight": (D,), pre + "ln2.bias": (D,), pre + "mlp.w_in": (D, F),
                           pre + "mlp.b_in": (F,), pre + "mlp.w_out": (F, D), pre + "mlp.b_out": (D,)})
    return shapes


def _round(x):
    """Nested lists of floats with 9 significant digits (float32 round-trips)."""
    if x is None:
        return None
    a = np.asarray(x, np.float64)
    if a.ndim == 0:
        return float(f"{float(a):.9g}")
    return [_round(v) for v in a] if a.ndim > 1 else [float(f"{v:.9g}") for v in a.tolist()]


def golden(params, cfg, tok, sentences):
    """The JAX trace of each sentence, computed in float64 on the dequantised weights."""
    with jax_x64():
        return _golden(params, cfg, tok, sentences)


def jax_x64():
    import jax
    try:
        return jax.enable_x64(True)
    except AttributeError:
        from jax.experimental import enable_x64
        return enable_x64()


def _golden(params, cfg, tok, sentences):
    import jax.numpy as jnp

    import reference
    import tinylm
    p = {k: jnp.asarray(np.asarray(v, np.float64)) for k, v in params.items()}
    if p["tok_emb"].dtype != jnp.float64:
        raise RuntimeError(f"expected the golden trace in float64, found {p['tok_emb'].dtype}")
    cases = []
    keys = ["normed", "queries", "keys", "values", "scores", "scaled", "weights", "mixed", "delta", "updated",
            "mlp_out", "output"]
    if tinylm.is_rope(cfg):
        keys[3:3] = ["rotated_queries", "rotated_keys"]
    for text in sentences:
        ids = reference.encode(cfg, tok, text)
        if not 0 < len(ids) <= cfg["context"]:
            raise ValueError(f"golden sentence must have 1..{cfg['context']} tokens, found {len(ids)}: {text!r}")
        t = tinylm.trace(p, cfg, ids)
        case = {"text": text, "ids": ids, "embeddings": _round(t["embeddings"]), "layers": []}
        for layer in t["layers"]:
            case["layers"].append({k: _round(layer[k]) for k in keys})
        case["logits_last"] = _round(t["logits_last"])
        case["probs_last"] = _round(t["probs_last"])
        cases.append(case)
    return {"model": MODEL_NAME, "tolerance": GOLDEN_TOLERANCE, "cases": cases}


def parity_strings(n):
    """Varied strings for the tokenizer parity test (deterministic)."""
    base = [
        "", " ", "  ", "\t", "\n", "\r\n", "a", "A", "the", " the", "The", "THE",
        "a fluffy blue creature roamed the verdant forest",
        "The quick brown fox jumps over the lazy dog.",
        "Hello, world!", "hello world", "Hello   world", "Hello\tworld\nnext line",
        "It's a dog's life; isn't it?", "I'm, you're, we'll, they'd, she's, I've",
        "don't DON'T Don't", "e-mail, well-known, state-of-the-art", "(parenthesis) [brackets] {braces}",
        "\"double quotes\" and 'single quotes'", "semi;colon: colon... ellipsis… — em dash – en dash",
        "1", "12", "123", "1234567890", "3.14159", "1,000,000", "$100.00", "50%", "2026-11-27", "10:45pm",
        "version 2.0.1", "0x1F", "Call 555-0123", "1st 2nd 3rd 4th",
        "café", "naïve", "résumé", "Zürich", "São Paulo", "Ångström", "façade", "piñata", "smørrebrød",
        "Straße", "Œuvre", "ÉCOLE", "e\u0301", "a\u0300\u0301\u0302", "n\u0303o", "Z\u0351\u0350a\u0353l",
        "日本語のテキスト", "中文字符", "한국어", "東京タワー", "漢字 and English",
        "😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🇬🇧🇫🇷", "smile 😀 now", "🦊 fox", "👩‍💻 coding",
        "مرحبا بالعالم", "שלום עולם", "Привет, мир", "Γειά σου Κόσμε", "नमस्ते दुनिया", "สวัสดีชาวโลก",
        "\x00", "a\x00b", "\x01\x02\x03", "\x1b[31mred\x1b[0m", "\x7f", "\u200b", "zero\u200bwidth",
        "\ufeffBOM", "\u00a0non-breaking", "tab\tseparated\tvalues", "   leading spaces", "trailing spaces   ",
        "\n\n\n", " \n \n ", "line1\n\nline2", "a  b   c    d",
        "supercalifragilisticexpialidocious", "antidisestablishmentarianism",
        "pneumonoultramicroscopicsilicovolcanoconiosis", "x" * 100, "ab" * 60, "Hippopotomonstrosesquippedaliophobia",
        "<|endoftext|>", "before<|endoftext|>after", "<|endoftext|><|endoftext|>", "<|endoftext", "|endoftext|>",
        "https://example.com/path?q=1&r=2", "user@example.com", "#hashtag @mention", "C:\\Windows\\path",
        "print('hello')", "fn main() { println!(\"hi\"); }", "a+b=c", "x^2 + y^2 = z^2", "<div class=\"x\">",
        "Monday Tuesday Wednesday", "January February March", "cat dog horse cow", "red green blue yellow",
        "Mr. Smith went to Washington.", "U.S.A.", "Ph.D.", "e.g. i.e. etc.", "CamelCaseWord", "snake_case_word",
        "ALLCAPS SENTENCE HERE", "MiXeD cAsE", "Call me Ishmael.", "To be, or not to be: that is the question.",
    ]
    words = ("a fluffy blue creature roamed the verdant forest the quick brown fox jumps over lazy dog "
             "President Congress whale ship sea café 東京 😀 123 4.5 don't it's — … \n \t").split(" ")
    rng = np.random.default_rng(7)
    out = list(base)
    while len(out) < n:
        k = int(rng.integers(1, 12))
        seps = [" ", " ", " ", "", "  ", "\n", ", ", ". "]
        s = ""
        for _ in range(k):
            s += words[int(rng.integers(len(words)))] + seps[int(rng.integers(len(seps)))]
        if rng.random() < 0.3:
            s = s.upper() if rng.random() < 0.5 else s.capitalize()
        out.append(s)
    return out[:n] if n >= len(base) else out[:n]


def export(params, cfg, tokenizer_path, out_dir, name=MODEL_NAME, n_parity=320):
    """Write model.safetensors, tokenizer.json, golden.json and tokenizer_parity.json into out_dir."""
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    params = {k: np.asarray(v, np.float32) for k, v in params.items()}
    shapes = expected_shapes(cfg)
    if set(params) != set(shapes):
        raise ValueError(f"expected tensors {sorted(shapes)}, found {sorted(params)}")
    tensors = quantize(params)
    meta = {"format": "attention-explorer/1", "config": json.dumps(cfg, separators=(",", ":")), "name": name}
    save_file(tensors, str(out_dir / "model.safetensors"), metadata=meta)
    shutil.copyfile(tokenizer_path, out_dir / "tokenizer.json")
    tok = Tokenizer.from_file(str(out_dir / "tokenizer.json"))
    deq = dequantize(tensors)
    g = golden(deq, cfg, tok, GOLDEN_SENTENCES)
    g["model"] = name
    (out_dir / "golden.json").write_text(json.dumps(g, separators=(",", ":")) + "\n")
    parity = [{"text": s, "ids": tok.encode(s).ids} for s in parity_strings(n_parity)]
    (out_dir / "tokenizer_parity.json").write_text(json.dumps(parity, ensure_ascii=False, indent=0) + "\n")
    size = (out_dir / "model.safetensors").stat().st_size
    print(f"export: wrote {out_dir} (model.safetensors {size:,} bytes)")
    return tensors


def load_shipped(model_dir):
    """model.safetensors → (config, dequantised float32 params, raw tensors, metadata)."""
    from safetensors import safe_open
    from safetensors.numpy import load_file
    path = str(Path(model_dir) / "model.safetensors")
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
    tensors = load_file(path)
    cfg = json.loads(meta["config"])
    return cfg, dequantize(tensors), tensors, meta


def check(model_dir, tol=1e-5, max_bytes=1_500_000):
    """Verify an exported directory against model/FORMAT.md; raise SystemExit with what differs. The
    golden trace (JAX) is compared with tests/reference/reference.py (NumPy) on the same weights."""
    import reference
    from tokenizers import Tokenizer
    model_dir = Path(model_dir)
    cfg, params, tensors, meta = load_shipped(model_dir)
    if meta.get("format") != "attention-explorer/1":
        raise SystemExit(f"check: expected format attention-explorer/1, found {meta.get('format')!r}")
    shapes = expected_shapes(cfg)
    for name, shape in shapes.items():
        t = tensors.get(name)
        if t is None or tuple(t.shape) != shape:
            raise SystemExit(f"check: expected {name} {shape}, found {None if t is None else t.shape}")
        if len(shape) == 2:
            if t.dtype != np.int8 or tensors[name + ".scale"].shape != (shape[0],) or \
                    tensors[name + ".scale"].dtype != np.float32:
                raise SystemExit(f"check: expected {name} int8 with f32 scale [{shape[0]}]")
        elif t.dtype != np.float32:
            raise SystemExit(f"check: expected {name} f32, found {t.dtype}")
    extra = set(tensors) - set(shapes) - {n + ".scale" for n, s in shapes.items() if len(s) == 2}
    if extra:
        raise SystemExit(f"check: expected no other tensors, found {sorted(extra)}")
    size = (model_dir / "model.safetensors").stat().st_size
    if size > max_bytes:
        raise SystemExit(f"check: expected model.safetensors ≤ {max_bytes} bytes, found {size}")
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tj = json.loads((model_dir / "tokenizer.json").read_text())
    if tj["model"]["type"] != "BPE" or tj["normalizer"] is not None or tj["decoder"]["type"] != "ByteLevel":
        raise SystemExit("check: tokenizer.json is not the byte-level BPE FORMAT.md describes")
    if tok.get_vocab_size() != cfg["vocab_size"]:
        raise SystemExit(f"check: expected vocab {cfg['vocab_size']}, found {tok.get_vocab_size()} in tokenizer")
    g = json.loads((model_dir / "golden.json").read_text())
    worst = 0.0
    for case in g["cases"]:
        if reference.encode(cfg, tok, case["text"]) != case["ids"]:
            raise SystemExit(f"check: golden ids differ from the tokenizer for {case['text']!r}")
        ref = reference.forward(cfg, params, case["ids"])

        def cmp(a, b, what):
            nonlocal worst
            if a is None or b is None:
                if a is not None or b is not None:
                    raise SystemExit(f"check: {what}: expected both null or both present")
                return
            a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
            if a.shape != b.shape:
                raise SystemExit(f"check: {what}: expected shape {b.shape}, found {a.shape}")
            # |golden − NumPy| ≤ tol · max(1, |NumPy|): absolute for values up to 1, relative above (the
            # scores reach tens, where float32 rounding alone exceeds 1e-5 absolute).
            d = float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))) if a.size else 0.0
            worst = max(worst, d)
            if d > tol:
                raise SystemExit(f"check: {what} of {case['text']!r}: expected ≤ {tol} (absolute, relative "
                                 f"above 1), found {d:.3g}")
        cmp(case["embeddings"], ref["embeddings"], "embeddings")
        for li, (gl, rl) in enumerate(zip(case["layers"], ref["layers"])):
            for k, v in gl.items():
                cmp(v, rl[k], f"layer {li} {k}")
        cmp(case["logits_last"], ref["logits_last"], "logits_last")
        cmp(case["probs_last"], ref["probs_last"], "probs_last")
    parity = json.loads((model_dir / "tokenizer_parity.json").read_text())
    for rec in parity:
        if tok.encode(rec["text"]).ids != rec["ids"]:
            raise SystemExit(f"check: parity ids differ for {rec['text']!r}")
        if tok.decode(rec["ids"], skip_special_tokens=False) != rec["text"]:
            raise SystemExit(f"check: decoding parity ids does not give back {rec['text']!r}")
    print(f"check: {model_dir} OK ({size:,} bytes, {len(g['cases'])} golden cases, max |NumPy − golden| / "
          f"max(1, |NumPy|) {worst:.2g}, {len(parity)} parity strings)")


def export_checkpoint(run_dir, out_dir):
    """Export, check, then measure the head profile on held-out text into out_dir/heads.json."""
    import eval as evaluation
    with open(Path(run_dir) / "checkpoint.pkl", "rb") as f:
        ck = pickle.load(f)
    print(f"export: checkpoint {run_dir} at step {ck['step']}")
    export(ck["params"], ck["config"], Path(run_dir) / "tokenizer.json", out_dir)
    check(out_dir)
    res = evaluation.evaluate(out_dir)
    profile = evaluation.head_profile(res)
    (Path(out_dir) / "heads.json").write_text(json.dumps(profile, indent=1, ensure_ascii=False) + "\n")
    print("export: heads " + ", ".join(f"{h['layer']}.{h['head']} {h['name']}" for h in profile["heads"]))
    return ck


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", default="main")
    ap.add_argument("--out", default=str(TRAINER.parent / "model"))
    ap.add_argument("--check", metavar="DIR", help="only verify an exported directory")
    args = ap.parse_args()
    if args.check:
        check(args.check)
    else:
        export_checkpoint(TRAINER / "checkpoints" / args.run, args.out)


if __name__ == "__main__":
    main()

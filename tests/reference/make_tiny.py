#!/usr/bin/env python3
"""Builds the small seeded test models and their golden files in tests/fixtures/tiny/.

Reproducible: every random draw comes from SEED, the tokenizer is trained on CORPUS below (written for
this project and dedicated to the public domain), and the pinned versions are in requirements.txt.

    python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install -r tests/reference/requirements.txt
    /tmp/refvenv/bin/python tests/reference/make_tiny.py

Writes (all committed, so CI never runs Python):
  tokenizer.json             byte-level BPE, pre_tokenizer Sequence[Digits, ByteLevel], merges as pairs
  tokenizer_parity.json      [{"text", "ids"}] from the Python `tokenizers` library, >= 200 strings
  tokenizer_bytelevel.json   a second BPE trained with pre_tokenizer ByteLevel alone, merges as "a b"
  tokenizer_bytelevel_parity.json
  model.safetensors          2 layers with MLP, weights stored as a mix of F32, F16 and I8 + .scale
  golden.json                reference.py forward pass of model.safetensors on GOLDEN_TEXTS
  attn_only.safetensors      1 attention-only layer (d_mlp 0), 4 heads, all F32
  golden_attn_only.json
  rope.safetensors           2 layers with MLP, rotary positions (no pos_emb, rope_base 100) and the start
                             token <|endoftext|> (bos_id 0); F32 with w_q of layer 0 in F16
  golden_rope.json           its golden file: ids begin with bos_id, layers have rotated_queries/_keys
"""

import json
import os
import random
import sys

import numpy as np
from safetensors.numpy import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402

SEED = 20261127
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "tiny")
VOCAB_SIZE = 360
SPECIAL = "<|endoftext|>"

CORPUS = """\
The fox sat at the edge of the field and watched the road. A cart went by, then a second cart, and the
driver of the second cart was singing a song about the river. The fox did not know the song, but it
liked the tune, and it followed the cart for a while to hear the end of it.
When the sun went down the farmer came out to count the hens. One, two, three, four, five: all of them
were there. He closed the gate, looked at the dark line of the trees, and said to his dog, "The fox is
out there tonight. Keep watch." The dog lay down by the gate and kept watch until morning.
In the morning the children went to school along the river. They counted the boats: 12 boats on
Monday, 7 on Tuesday, and 31 on the day of the market. The teacher asked them what the word "river"
means in a sentence like "a river of people", and they said it means that many people move together.
A word means something because of the words around it. The bank of a river is not the bank where the
farmer keeps his money; the same word, in a new sentence, points somewhere else. Readers do this
without thinking: they look back at the words before, and each word takes a little meaning from them.
Le renard était assis au bord du champ. Der Fuchs saß am Rand des Feldes. El zorro miró el camino.
Café, naïve, façade, jalapeño, Ångström, smörgåsbord: some words keep the marks of where they came from.
狐は畑の端に座っていた。 Лиса сидела на краю поля. Η αλεπού κάθισε. الثعلب جلس. השועל ישב.
It's late, isn't it? We'll see; they've gone, I'm here, you'd know, she's right and we're fine.
Numbers: 2026, 3.14159, 1/2, 100%, #42, $7.50, and 1,000,000 hens (no, only five).
"""

# Texts for golden.json: each encodes to at most `context` (16) tokens; "Café naïve 😀!" to exactly 16.
GOLDEN_TEXTS = [
    "The fox watched the road.",
    "a",
    "The bank of the river",
    "Café naïve 😀!",
    SPECIAL + "The end",
    "  spaces\tand\nlines ",
]

# Texts for golden_rope.json: the start token comes first, so "Café naïve 😀" (15 tokens) fills the
# context exactly; a repeated phrase shows the same token at several positions.
GOLDEN_TEXTS_ROPE = [
    "The fox watched the road.",
    "a",
    "the fox, the fox, the fox",
    "Café naïve 😀",
    SPECIAL + "The end",
    "  spaces\tand\nlines ",
]


def train_tokenizer():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=[SPECIAL],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS.splitlines(), trainer)
    return tok


def train_tokenizer_bytelevel():
    """A second tokenizer: plain ByteLevel pre-tokenizer (digits merge too), merges written as "a b"."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=[SPECIAL],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS.splitlines() + DIGITS_CORPUS, trainer)
    j = json.loads(tok.to_str())
    j["model"]["merges"] = [" ".join(m) if isinstance(m, list) else m for m in j["model"]["merges"]]
    return json.dumps(j, ensure_ascii=False, indent=2)


# Extra lines for the ByteLevel-only tokenizer so that it learns merges of digits and of non-ASCII text.
DIGITS_CORPUS = ["In 2026, 2027 and 2028 the numbers 12, 123, 1234 and 2026 came up again."] * 3 + [
    "Café café naïve naïve 狐狐 😀😀 ½½ — 1/2 1/2 12½ 12½"] * 3


def save_deterministic(tensors, path, metadata):
    """safetensors' writer orders `__metadata__` by a hash map; rewrite the header with sorted metadata
    keys (same bytes otherwise, same length) so the fixture is byte-for-byte reproducible."""
    save_file(tensors, path, metadata=metadata)
    with open(path, "rb") as f:
        data = bytearray(f.read())
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    tensor_names = sorted((k for k in header if k != "__metadata__"),
                          key=lambda k: header[k]["data_offsets"][0])
    ordered = {"__metadata__": header["__metadata__"], **{k: header[k] for k in tensor_names}}
    text = json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode()
    assert len(text) <= n, (len(text), n)
    data[8:8 + n] = text + b" " * (n - len(text))
    with open(path, "wb") as f:
        f.write(data)


def parity_texts(rng):
    """>= 200 varied strings: hand-picked edge cases, corpus lines, and seeded random mixtures."""
    fixed = [
        "", " ", "  ", "   ", "\t", "\n", "\r\n", "\n\n\n", " \n ", "a", "A", "ab", "the", " the",
        "  the", "   the", "the ", "the  ", "the fox", "The Fox", "THE FOX", "hello world",
        "Hello, world!", "It's", "it's", "IT'S", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S",
        "don't", "we'll", "they've", "you're", "I'm", "she'd", "o'clock", "'", "''", "'''s",
        "rock 'n' roll", "x's y't z're", "’s curly", "12", "123", "2026", " 2026", "3.14159", "1,000,000",
        "a1b2c3", "x 1 y  2", "½", "12½", "Ⅻ", "Ⅻ century", "٣٤٥", "१२३", "①②", "²³", "〇",
        "café", "Café", "naïve", "façade", "Ångström", "e\u0301", "cafe\u0301", "n\u0303o",
        "a\u0300\u0301\u0302", "\u0301", " \u0301", "狐は畑の端に座っていた。", "中文 字符", "日本語",
        "한국어", "Лиса сидела", "Ελληνικά", "الثعلب جلس", "השועל ישב", "مرحبا بالعالم",
        "עברית ו English", "😀", "😀😀", " 😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "a😀b", "🇫🇷🇩🇪",
        "\u0000", "a\u0000b", "\u0001\u0002\u0003", "\u007f", "\u001b[31mred\u001b[0m", "\u0085",
        "\u00a0", "a\u00a0b", "a \u00a0b", "\u2003", "\u3000", "a\u3000b", "\u2028", "\u2029",
        "\u200b", "a\u200bb", "\ufeff", "\u200d", "\u180e", "\u000b\u000c", "\u001c\u001d\u001e\u001f",
        " \t \n", "a \t b", "a\t\tb", "a  \n  b", "end   ", "   start", "a\r\nb\r\n",
        "!!!", "...", "?!", " ...", "#42", "$7.50", "100%", "a-b_c", "(x)", "[1, 2]", "{\"k\": 1}",
        "<html>", "</script>", "<img src=x onerror=alert(1)>", "javascript:void(0)", "a\\b",
        SPECIAL, SPECIAL + SPECIAL, "a" + SPECIAL + "b", " " + SPECIAL + " ", "The end." + SPECIAL,
        "<|endoftext|", "|endoftext|>", "<|endoftext", "<|endoftext|>>", "<<|endoftext|>",
        "ℌ𝔢𝔩𝔩𝔬", "𝟙𝟚𝟛", "ﬁne", "ǅ", "ʰ", "ᵃ", "々", "ー", "ⅰⅱ", "𐍈", "\U0010ffff", "\ue000",
        "\U0001F600\U0001F601", "x" * 50, "ab" * 30, " " * 40 + "x", "the " * 20,
    ]
    lines = [l for l in CORPUS.splitlines() if l]
    sentences = []
    for line in lines:
        sentences.extend(s.strip() + "." for s in line.split(".") if s.strip())
    pool = (
        list("abcdefghijklmnopqrstuvwxyz") * 4 + list("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        + [" "] * 30 + ["  ", "\t", "\n", "\r\n", "\u00a0", "\u3000"] + list("0123456789") * 2
        + list(".,;:!?'\"-()[]{}<>/\\@#$%^&*_+=|~`") + ["'s", "'ll", "'d", "'re"]
        + list("éèêëàâçñöüßåøæœ") + list("中文字符狐畑") + list("Лисаполя") + list("αβγδ")
        + list("جلسثعلب") + list("שועל") + ["e\u0301", "\u0308", "😀", "👍🏽", "👨‍👩‍👧", "\u200d"]
        + ["½", "Ⅻ", "٣", "१", "²", "\u0000", "\u0007", "\u007f", "\u0085", "\u2028", SPECIAL]
    )
    randoms = []
    for _ in range(130):
        n = rng.randint(1, 40)
        randoms.append("".join(rng.choice(pool) for _ in range(n)))
    # Random mixtures of corpus words with odd spacing.
    words = CORPUS.split()
    for _ in range(40):
        n = rng.randint(1, 12)
        sep = [" ", "  ", "\t", "\n", "", " \n"]
        randoms.append("".join(rng.choice(words) + rng.choice(sep) for _ in range(n)))
    texts = fixed + sentences + randoms
    assert len(texts) >= 200, len(texts)
    return texts


def quantise_i8(w):
    """Symmetric per-row int8: q = round(w / scale), scale = max|row| / 127 (f32)."""
    scale = (np.abs(w).max(axis=1) / 127.0).astype(np.float32)
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(w / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def store(tensors, name, w, dtype):
    w = w.astype(np.float32)
    if dtype == "F32":
        tensors[name] = w
    elif dtype == "F16":
        tensors[name] = w.astype(np.float16)
    elif dtype == "I8":
        q, scale = quantise_i8(w)
        tensors[name] = q
        tensors[name + ".scale"] = scale
    else:
        raise ValueError(dtype)


def build_model(rng, cfg, dtypes, name):
    """Random weights per FORMAT.md. `dtypes(name) -> "F32" | "F16" | "I8"` picks each storage."""
    V, D, L = cfg["vocab_size"], cfg["d_model"], cfg["n_layers"]
    HD, F, C = cfg["n_heads"] * cfg["d_head"], cfg["d_mlp"], cfg["context"]
    shapes = {"tok_emb": (V, D)}
    if cfg.get("positions", "learned") == "learned":
        shapes["pos_emb"] = (C, D)
    for i in range(L):
        p = f"layers.{i}."
        shapes.update({p + "ln1.weight": (D,), p + "ln1.bias": (D,), p + "attn.w_q": (D, HD),
                       p + "attn.w_k": (D, HD), p + "attn.w_v": (D, HD), p + "attn.w_o": (HD, D)})
        if F > 0:
            shapes.update({p + "ln2.weight": (D,), p + "ln2.bias": (D,), p + "mlp.w_in": (D, F),
                           p + "mlp.b_in": (F,), p + "mlp.w_out": (F, D), p + "mlp.b_out": (D,)})
    shapes.update({"ln_f.weight": (D,), "ln_f.bias": (D,)})
    tensors = {}
    for n, shape in shapes.items():
        if n.endswith("ln1.weight") or n.endswith("ln2.weight") or n == "ln_f.weight":
            w = 1.0 + 0.1 * rng.standard_normal(shape)
        elif len(shape) == 1:
            w = 0.05 * rng.standard_normal(shape)
        elif n.endswith("w_q") or n.endswith("w_k"):
            w = 0.6 * rng.standard_normal(shape)  # peaky attention: the weights are worth checking
        else:
            w = 0.3 * rng.standard_normal(shape)
        store(tensors, n, w, dtypes(n))
    meta = {"format": reference.FORMAT, "config": json.dumps(cfg, separators=(",", ":")), "name": name}
    return tensors, meta


def tiny_dtypes(name):
    mix = {
        "tok_emb": "I8", "pos_emb": "F16",
        "layers.0.ln1.weight": "F16", "layers.0.attn.w_q": "I8", "layers.0.attn.w_k": "F16",
        "layers.0.attn.w_o": "I8", "layers.0.ln2.bias": "F16", "layers.0.mlp.w_in": "F16",
        "layers.0.mlp.w_out": "I8", "layers.0.mlp.b_out": "F16",
        "layers.1.attn.w_k": "I8", "layers.1.attn.w_v": "F16", "layers.1.ln2.weight": "F16",
        "layers.1.mlp.w_in": "I8", "layers.1.mlp.b_in": "F16",
        "ln_f.weight": "F16",
    }
    return mix.get(name, "F32")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(SEED)
    prng = random.Random(SEED)

    tok = train_tokenizer()
    tok_json = tok.to_str(pretty=True)
    variant_json = train_tokenizer_bytelevel()
    paths = {k: os.path.join(OUT, k) for k in [
        "tokenizer.json", "tokenizer_parity.json", "tokenizer_bytelevel.json",
        "tokenizer_bytelevel_parity.json", "model.safetensors", "golden.json",
        "attn_only.safetensors", "golden_attn_only.json", "rope.safetensors", "golden_rope.json"]}
    with open(paths["tokenizer.json"], "w", encoding="utf-8") as f:
        f.write(tok_json + "\n")
    with open(paths["tokenizer_bytelevel.json"], "w", encoding="utf-8") as f:
        f.write(variant_json + "\n")

    texts = parity_texts(prng)
    for tok_path, parity_path in [(paths["tokenizer.json"], paths["tokenizer_parity.json"]),
                                  (paths["tokenizer_bytelevel.json"],
                                   paths["tokenizer_bytelevel_parity.json"])]:
        t = Tokenizer.from_file(tok_path)
        cases = []
        for text in texts:
            ids = t.encode(text).ids
            assert t.decode(ids, skip_special_tokens=False) == text, repr(text)
            cases.append({"text": text, "ids": ids})
        with open(parity_path, "w", encoding="utf-8") as f:
            json.dump(cases, f, ensure_ascii=False, indent=0)
            f.write("\n")

    vocab = tok.get_vocab_size()
    cfg = {"vocab_size": vocab, "d_model": 16, "n_layers": 2, "n_heads": 2, "d_head": 8,
           "d_mlp": 32, "context": 16, "ln_eps": 1e-5}
    tensors, meta = build_model(rng, cfg, tiny_dtypes, "attention-explorer tiny-2L test model")
    save_deterministic(tensors, paths["model.safetensors"], meta)
    cfg1 = {"vocab_size": vocab, "d_model": 16, "n_layers": 1, "n_heads": 4, "d_head": 4,
            "d_mlp": 0, "context": 16, "ln_eps": 1e-5}
    tensors1, meta1 = build_model(rng, cfg1, lambda n: "F32", "attention-explorer tiny-1L attention-only test model")
    save_deterministic(tensors1, paths["attn_only.safetensors"], meta1)
    # drawn after the other two, so that adding it changed none of their bytes
    bos = tok.token_to_id(SPECIAL)
    cfg2 = {"vocab_size": vocab, "d_model": 16, "n_layers": 2, "n_heads": 2, "d_head": 8,
            "d_mlp": 32, "context": 16, "ln_eps": 1e-5, "positions": "rope", "rope_base": 100.0, "bos_id": bos}
    tensors2, meta2 = build_model(rng, cfg2, lambda n: "F16" if n == "layers.0.attn.w_q" else "F32",
                                  "attention-explorer tiny-2L rotary test model")
    save_deterministic(tensors2, paths["rope.safetensors"], meta2)

    for model, out, golden_texts in [(paths["model.safetensors"], paths["golden.json"], GOLDEN_TEXTS),
                                     (paths["attn_only.safetensors"], paths["golden_attn_only.json"], GOLDEN_TEXTS),
                                     (paths["rope.safetensors"], paths["golden_rope.json"], GOLDEN_TEXTS_ROPE)]:
        data = reference.write_golden(model, paths["tokenizer.json"], golden_texts, out)
        lens = [len(c["ids"]) for c in data["cases"]]
        assert max(lens) == 16, f"one golden text should fill the context exactly: {lens}"
        print(f"{os.path.basename(out)}: token counts {lens}")
    print(f"vocab {vocab}, {len(texts)} parity strings, written to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The embedding map's projection for the tiny test models, by NumPy's SVD (shares no code with src/).

For each model: the mean row of the token-embedding table `tok_emb` (vocab_size, d_model), and the
two leading right singular vectors of the centred table, which are the two leading eigenvectors of its
covariance (the principal axes the engine finds by power iteration), each sign-normalised so that its
largest-magnitude entry is positive, as the engine does. Also the leading singular values, from which
tests/pca.rs bounds how far an f32 power iteration may land from these axes. Everything in float64;
numbers written with 17 significant digits.

Usage: python tests/reference/pca.py   (writes tests/fixtures/tiny/pca.json)
"""

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402  (its safetensors loader: I8 and F16 expanded to f32 as FORMAT.md says)

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "tiny")
MODELS = ["model.safetensors", "attn_only.safetensors", "rope.safetensors"]


def principal_axes(table):
    x = table.astype(np.float64)
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    axes = vt[:2].copy()
    for axis in axes:
        if axis[np.argmax(np.abs(axis))] < 0:
            axis *= -1
    return mean, axes, s


def main():
    out = {}
    for name in MODELS:
        _, _, w = reference.load(os.path.join(FIXTURES, name))
        mean, axes, s = principal_axes(w["tok_emb"])
        out[name] = {
            "rows": int(w["tok_emb"].shape[0]),
            "mean": [float(f"{v:.17g}") for v in mean],
            "axes": [[float(f"{v:.17g}") for v in axis] for axis in axes],
            "singular_values": [float(f"{v:.17g}") for v in s[:3]],
        }
    path = os.path.join(FIXTURES, "pca.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    for name, v in out.items():
        s = v["singular_values"]
        print(f"{name}: singular values {s[0]:.6g}, {s[1]:.6g}, {s[2]:.6g}")
    print(f"wrote {os.path.relpath(path)}")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# The benchmarks behind `./build.sh bench` (which builds www/pkg first). Writes target/bench.json.
#   1. the kernel benchmark module (benches/kernels), twice: with +simd128 (.cargo/config.toml) and
#      without it (CARGO_ENCODED_RUSTFLAGS replaces the config's flags for that build only), each in
#      its own target dir so neither rebuild undoes the other;
#   2. the shipped module once more without the built-in model (cargo + wasm-bindgen, as wasm-pack
#      does it), for its size without weights;
#   3. node benches/engine.mjs: kernels and whole analyses in one Node process, then node
#      benches/quant.mjs: the quantised kernels' two approaches side by side (quant_matmul), then
#      node benches/llm.mjs: SmolLM2-135M's load, analyses and wasm memory (llm_*; skipped without
#      models/smollm2-135m.Q4_1.gguf);
#   4. node benches/page.mjs: page timings in headless Chromium, then node benches/llm-chromium.mjs:
#      SmolLM2-135M's analysis beside wllama's prompt processing of the same GGUF and text, one
#      thread, in the same Chromium (llm_analyze_chromium, llm_wllama_ms, llm_wllama_load_ms);
#   5. node benches/widget.mjs: the widget's first view and size (it builds dist/ itself).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=${CARGO_TARGET_DIR:-$PWD/target}
PKG=${BENCH_PKG:-www/pkg} # the shipped module to time (./build.sh build writes www/pkg)
WASM=wasm32-unknown-unknown/release/attention_explorer_kernel_bench.wasm

echo "==> kernel benchmark module, simd128 and scalar builds" >&2
(cd benches/kernels && CARGO_TARGET_DIR="$TARGET/bench-simd" cargo build --release --target wasm32-unknown-unknown)
(cd benches/kernels && CARGO_TARGET_DIR="$TARGET/bench-scalar" CARGO_ENCODED_RUSTFLAGS="-Ctarget-feature=-simd128" \
  cargo build --release --target wasm32-unknown-unknown)

echo "==> the shipped module without the built-in model (size only)" >&2
CARGO_TARGET_DIR="$TARGET/bench-noweights" cargo build --release --target wasm32-unknown-unknown --lib --no-default-features
wasm-bindgen --target web --out-dir "$TARGET/bench-noweights/pkg" \
  "$TARGET/bench-noweights/wasm32-unknown-unknown/release/attention_explorer.wasm"
# the same wasm-opt pass as ./build.sh build, so the size is the shipped one
node_modules/.bin/wasm-opt -Os --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue --strip-debug --strip-producers \
  "$TARGET/bench-noweights/pkg/attention_explorer_bg.wasm" -o "$TARGET/bench-noweights/pkg/attention_explorer_bg.wasm"

echo "==> node benches/engine.mjs" >&2
node benches/engine.mjs --simd "$TARGET/bench-simd/$WASM" --scalar "$TARGET/bench-scalar/$WASM" --pkg "$PKG" \
  --weights-inside yes --no-weights-wasm "$TARGET/bench-noweights/pkg/attention_explorer_bg.wasm"

echo "==> node benches/quant.mjs" >&2
node benches/quant.mjs --simd "$TARGET/bench-simd/$WASM" --scalar "$TARGET/bench-scalar/$WASM"

echo "==> node benches/llm.mjs" >&2
node benches/llm.mjs --pkg "$PKG"

if [ -f benches/page.mjs ] && [ -z "${BENCH_ENGINE_ONLY:-}" ]; then
  echo "==> node benches/page.mjs" >&2
  node benches/page.mjs
fi

if [ -z "${BENCH_ENGINE_ONLY:-}" ]; then
  echo "==> node benches/llm-chromium.mjs" >&2
  node benches/llm-chromium.mjs
fi

if [ -f benches/widget.mjs ] && [ -z "${BENCH_ENGINE_ONLY:-}" ]; then
  echo "==> node benches/widget.mjs" >&2
  node benches/widget.mjs
fi

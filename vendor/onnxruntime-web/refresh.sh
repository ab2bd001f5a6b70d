#!/bin/sh
# Refresh the vendored onnxruntime-web files from npm (development time only; builds and
# tests never touch the network). `npm ci` installs exactly what package-lock.json pins, with
# its integrity hashes checked; then the three files the site serves are copied into dist/
# and their sha256 sums written to dist/SHA256SUMS (checked by the test suite).
# To move to another version: edit package.json, run `npm install --package-lock-only`, then
# this script, and commit package.json, package-lock.json and dist/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$work/"
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
src="$work/node_modules/onnxruntime-web/dist"
mkdir -p "$here/dist"
rm -f "$here/dist/"*
for f in ort.wasm.min.mjs ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm; do
  cp "$src/$f" "$here/dist/$f"
done
cp "$work/node_modules/onnxruntime-web/LICENSE" "$here/dist/LICENSE" 2>/dev/null || true
(cd "$here/dist" && sha256sum ort.wasm.min.mjs ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm > SHA256SUMS)
echo "onnxruntime-web $(node -p "require('$work/node_modules/onnxruntime-web/package.json').version") vendored into $here/dist"

#!/usr/bin/env bash
# Fetch real pretrained classifiers and convert them for frost:
# the three NSFW image classifiers of the npm package nsfwjs@4.4.0 (MIT),
# shipped in TensorFlow.js format, become frozen GraphDefs in models/:
#   models/nsfw_inception_v3.pb      Keras InceptionV3, input input_1 [-1,299,299,3]
#   models/nsfw_mobilenet_v2.pb      Keras MobileNetV2, input input_1 [-1,224,224,3]
#   models/nsfw_mobilenet_v2_mid.pb  TF-Hub MobileNetV2-1.4 graph model, input input [-1,224,224,3]
#   models/nsfw_labels.txt           Drawing, Hentai, Neutral, Porn, Sexy
#   models/nsfwjs/<model>/           the TensorFlow.js files (model.json + .bin shards)
# Preprocessing for all three: RGB, bilinear resize with align_corners=true,
# pixel / 255 (frost classify --resize align_corners --input_mean 0 --input_std 255).
#
# usage: scripts/fetch-models.sh [FROST_BINARY]   (default: $FROST_BIN, else build/frost)
# Needs npm and node (Node.js only unpacks the package's JavaScript bundles).
# Cached: the npm tarball is kept in .cache/ (and npm's own cache); a second
# run downloads nothing and only re-converts when the frost binary changed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
frost="${1:-${FROST_BIN:-build/frost}}"
version=4.4.0
sha1=706017d11e44de0803b73a568819f800a50ae470 # shasum of nsfwjs-4.4.0.tgz on the npm registry
cache="$root/.cache/nsfwjs-$version"
out="$root/models"
models=(inception_v3 mobilenet_v2 mobilenet_v2_mid)
classes=Drawing,Hentai,Neutral,Porn,Sexy

if [ ! -x "$frost" ]; then
  echo "fetch-models: $frost not found; build frost first (scripts/build.sh)" >&2
  exit 1
fi
for tool in npm node; do
  if ! command -v "$tool" >/dev/null; then
    echo "fetch-models: $tool not found; install the Debian packages nodejs and npm (scripts/install-deps.sh)" >&2
    exit 1
  fi
done
mkdir -p "$cache" "$out/nsfwjs"

tgz="$cache/nsfwjs-$version.tgz"
if [ ! -f "$tgz" ] || [ "$(sha1sum "$tgz" | cut -d' ' -f1)" != "$sha1" ]; then
  echo "fetch-models: npm pack nsfwjs@$version"
  rm -f "$tgz"
  (cd "$cache" && npm pack --silent "nsfwjs@$version" >/dev/null)
  got=$(sha1sum "$tgz" | cut -d' ' -f1)
  if [ "$got" != "$sha1" ]; then
    echo "fetch-models: $tgz: sha1 $got, expected $sha1" >&2
    exit 1
  fi
fi

for m in "${models[@]}"; do
  dir="$out/nsfwjs/$m"
  if [ ! -f "$dir/model.json" ] || [ "$dir/model.json" -ot "$tgz" ]; then
    rm -rf "$cache/package"
    tar -xzf "$tgz" -C "$cache" "package/dist/models/$m"
    node scripts/extract-tfjs-bundle.js "$cache/package/dist/models/$m" "$dir.tmp"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
    rm -rf "$cache/package"
  fi
  pb="$out/nsfw_$m.pb"
  if [ ! -f "$pb" ] || [ "$pb" -ot "$dir/model.json" ] || [ "$pb" -ot "$frost" ]; then
    "$frost" convert "$dir/model.json" -o "$pb" --labels "$out/nsfw_labels.txt" --class-names "$classes"
  fi
done
echo "fetch-models: ready: $(cd "$out" && ls nsfw_*.pb nsfw_labels.txt | tr '\n' ' ')"

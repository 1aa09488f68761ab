#!/usr/bin/env bash
# Does decoding add to the time per image?  Classifies a directory of N JPEGs
# of varied sizes (made from real photos: Debian's darknet package, plus
# ../shared/images when present) with `frost classify`, and compares its
# end-to-end images/s with the pure-inference images/s of the same model at
# the same batch size (`frost bench --pattern batched`), measured in the same run.
#
# usage: bench/pipeline.sh [MODEL.pb] [N] [BATCH]
#   MODEL  default models/nsfw_inception_v3.pb (scripts/fetch-models.sh), with
#          its preprocessing (--resize align_corners --input_mean 0 --input_std 255);
#          FROST_PREPROC overrides those flags for another model.
#   N      images (default 200), BATCH (default 8); FROST=path/to/frost (default build/frost)
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-models/nsfw_inception_v3.pb}"
n="${2:-200}"
batch="${3:-8}"
frost="${FROST:-build/frost}"
pre=(${FROST_PREPROC:---resize align_corners --input_mean 0 --input_std 255})
dir="${TMPDIR:-/tmp}/frost-pipeline-$n"
if [ ! -d "$dir" ] || [ "$(ls "$dir" | wc -l)" != "$n" ]; then
  rm -rf "$dir"; mkdir -p "$dir"
  /usr/bin/python3 - "$dir" "$n" <<'PY'
import cv2, glob, os, random, sys
out, n = sys.argv[1], int(sys.argv[2])
srcs = sorted(glob.glob('/usr/share/darknet/data/*.jpg')) + sorted(glob.glob('../shared/images/*'))
imgs = [im for im in (cv2.imread(p) for p in srcs) if im is not None]
assert imgs, "no source photos: install the darknet package"
rnd = random.Random(1)
for i in range(n):
    im = imgs[i % len(imgs)]
    w = rnd.randint(240, 1600); h = max(160, int(w * im.shape[0] / im.shape[1] * rnd.uniform(0.8, 1.25)))
    cv2.imwrite(os.path.join(out, '%04d.jpg' % i), cv2.resize(im, (w, h), interpolation=cv2.INTER_AREA),
                [cv2.IMWRITE_JPEG_QUALITY, rnd.randint(70, 95)])
PY
fi
echo "model $model, $n JPEGs in $dir ($(du -sh "$dir" | cut -f1)), batch $batch, $(nproc) cores"
csv=$(mktemp)
trap 'rm -f "$csv"' EXIT
iters=$(( n / batch )); [ "$iters" -ge 5 ] || iters=5
"$frost" bench "$model" --pattern batched --batch "$batch" --iterations "$iters" --warmup 2 --csv "$csv" >/dev/null
pure=$(awk -F, -v b="$batch" 'NR>1 {s+=$3; k++} END {printf "%.2f", b*k*1000/s}' "$csv")
# classify --count 1 reports the images/s from the first image read to the
# last answer (load + compile excluded, as in the pure-inference number).
line=$("$frost" classify --graph "$model" "${pre[@]}" --batch "$batch" --count 1 --format csv "$dir" 2>&1 >/dev/null |
       grep 'images/s end to end')
e2e=$(echo "$line" | sed -E 's/.*: ([0-9.]+) images\/s end to end.*/\1/')
echo "pure inference (frost bench, batch $batch): $pure images/s"
echo "frost classify over the directory: $line"
echo "ratio end-to-end / pure inference: $(echo "$e2e $pure" | awk '{printf "%.3f", $1/$2}')"

#!/usr/bin/env bash
# The three ways users classify a folder of images, measured with frost classify:
#   1. a shell loop that starts `frost classify` once per image
#      (what a loop around TensorFlow's label_image does: load + compile per image)
#   2. one `frost classify` over all the images (load + compile once)
#   3. one `frost classify -` reading the paths from stdin, answering each as it arrives
#   4. as 2, with --batch 8
# and prints the time of each, per image, and the ratio against the loop.
#
# usage: bench/seed_patterns.sh [MODEL.pb [LABELS.txt [COUNT [IMAGE...]]]]
#   MODEL.pb   default ../shared/models/mobilenet_v1_0.25_128_quant_float.pb
#   LABELS     default the labels file next to the model (imagenet_labels.txt)
#   COUNT      number of images (default 100), copies of IMAGE... taken in turn
#              (default ../shared/images/*)
# env: FROST (the frost binary; default build/frost), FROST_ARGS (extra
#      classify flags; default "--input_mean=128 --input_std=128"),
#      FROST_THREADS (default: all cores)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="$root/../shared"
frost="${FROST:-$root/build/frost}"
model="${1:-$shared/models/mobilenet_v1_0.25_128_quant_float.pb}"
labels="${2:-$(dirname "$model")/imagenet_labels.txt}"
count="${3:-100}"
shift $(($# < 3 ? $# : 3))
images=("$@")
if [ ${#images[@]} -eq 0 ]; then
    shopt -s nullglob
    images=("$shared"/images/*.jpg "$shared"/images/*.bmp)
fi
extra=(${FROST_ARGS:---input_mean=128 --input_std=128})
[ -n "${FROST_THREADS:-}" ] && extra+=("--threads=$FROST_THREADS")

die() { echo "seed_patterns: $*" >&2; exit 2; }
[ -x "$frost" ] || die "no frost binary at $frost (build it, or set FROST)"
[ -f "$model" ] || die "no model $model"
[ -f "$labels" ] || die "no labels file $labels"
[ ${#images[@]} -gt 0 ] || die "no images given and none in $shared/images"
[[ "$count" =~ ^[0-9]+$ && "$count" -ge 1 ]] || die "COUNT must be a positive integer"

work="$(mktemp -d "${TMPDIR:-/tmp}/frost-seed.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir "$work/img"
for ((i = 0; i < count; i++)); do
    src="${images[i % ${#images[@]}]}"
    cp "$src" "$work/img/$(printf 'img%05d' "$i").${src##*.}"
done
files=("$work"/img/*)
common=(--graph="$model" --labels="$labels" --top_k=1 "${extra[@]}")

now() { date +%s.%N; }
declare -A secs
run() { # name, then the command; stdout goes to $work/name.out
    local name="$1" t0 t1
    shift
    t0=$(now)
    "$@" >"$work/$name.out"
    t1=$(now)
    secs[$name]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
}

loop() { for f in "${files[@]}"; do "$frost" classify "${common[@]}" --image="$f"; done; }
stream() { printf '%s\n' "${files[@]}" | "$frost" classify "${common[@]}" -; }

# Warm the page cache (model, images, binary) so that no method pays for it alone.
"$frost" classify "${common[@]}" "${files[0]}" >/dev/null
cat "${files[@]}" >/dev/null

run loop loop
run one "$frost" classify "${common[@]}" "${files[@]}"
run stream stream
run batch8 "$frost" classify "${common[@]}" --batch=8 "${files[@]}"

# Every method must have answered every image with the same top-1 class.
top1() { grep -oE '\([0-9]+\): ' "$1" | tr -d '(): ' || true; }
for name in loop one stream batch8; do
    answers=$(top1 "$work/$name.out" | wc -l)
    if [ "$answers" -ne "$count" ]; then
        echo "seed_patterns: warning: '$name' answered $answers of $count images" >&2
    elif ! cmp -s <(top1 "$work/loop.out") <(top1 "$work/$name.out"); then
        echo "seed_patterns: warning: '$name' does not give the loop's top-1 classes" >&2
    fi
done

echo "frost $("$frost" --version | awk '{print $2}'), model $(basename "$model"), $count images, $(nproc) cores"
echo
printf '| %-52s | %9s | %9s | %9s | %8s |\n' "method" "total s" "ms/image" "images/s" "vs loop"
printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..54})" "-----------" "-----------" "-----------" "----------"
row() {
    awk -v label="$2" -v s="${secs[$1]}" -v n="$count" -v loop="${secs[loop]}" \
        'BEGIN { printf "| %-52s | %9.3f | %9.2f | %9.1f | %7.1fx |\n", label, s, 1000 * s / n, n / s, loop / s }'
}
row loop "shell loop: frost classify once per image"
row one "one frost classify over all the images"
row stream "one frost classify, paths streamed on stdin"
row batch8 "one frost classify --batch=8 over all the images"
echo
echo "commands (\$F = $(basename "$frost") classify ${common[*]}):"
echo "  loop:   for f in img/*; do \$F --image=\$f; done"
echo "  one:    \$F img/*"
echo "  stream: printf '%s\\n' img/* | \$F -"
echo "  batch:  \$F --batch=8 img/*"

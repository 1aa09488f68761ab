# bench/seed_patterns.sh runs its four methods on a few images of the small
# shared MobileNet, they agree on the top-1 classes, and it prints one table
# row per method with consistent numbers (ms/image = 1000 * total / count).
set -euo pipefail
model="$FROST_SHARED/models/mobilenet_v1_0.25_128_quant_float.pb"
labels="$FROST_SHARED/models/imagenet_labels.txt"
[ -f "$model" ] && [ -f "$labels" ] || { echo "skipped: no ../shared"; exit 77; }

count=6
out="$FROST_TMP/seed.out"
FROST="$FROST_BIN" FROST_THREADS=1 TMPDIR="$FROST_TMP" \
    bash "$FROST_SRC/bench/seed_patterns.sh" "$model" "$labels" "$count" \
    "$FROST_SHARED/images/grace_hopper.jpg" "$FROST_SHARED/images/cat.bmp" >"$out" 2>"$FROST_TMP/seed.err"
cat "$out"
fail=0
if [ -s "$FROST_TMP/seed.err" ]; then
    echo "FAIL: seed_patterns.sh wrote to stderr:"; cat "$FROST_TMP/seed.err"; fail=1
fi
rows=$(grep -c '^| .* | *[0-9.]* | *[0-9.]* | *[0-9.]* | *[0-9.]*x |$' "$out" || true)
[ "$rows" -eq 4 ] || { echo "FAIL: $rows table rows, want 4"; fail=1; }
# ms/image and images/s follow from the total for each row.
awk -F'|' -v n="$count" '/x \|$/ && $3 ~ /[0-9]/ {
    s = $3 + 0; ms = $4 + 0; ips = $5 + 0
    # totals are printed to 1 ms: allow for that rounding
    if (s <= 0 || (ms - 1000 * s / n) ^ 2 > (0.006 + 0.5 / n) ^ 2 || (ips - n / s) ^ 2 > (0.06 + ips * 0.0006 / s) ^ 2) {
        print "FAIL: row" $0; bad = 1
    }
} END { exit bad }' "$out" || fail=1
# The loop row is the reference (1.0x); a leftover work directory would be a bug.
grep -q 'shell loop.*| *1.0x |$' "$out" || { echo "FAIL: loop row is not 1.0x"; fail=1; }
if ls "$FROST_TMP"/frost-seed.* >/dev/null 2>&1; then echo "FAIL: work directory left behind"; fail=1; fi
[ "$fail" -eq 0 ] && echo "seed_patterns: ok"
exit "$fail"

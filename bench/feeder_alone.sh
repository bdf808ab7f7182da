#!/usr/bin/env bash
# feeder alone on a large corpus, timed the way run.py times a build (wait4, through GNU time):
# a cold build, then RUNS times a no-op, adding one brief and editing one brief (each undone and
# rebuilt, unmeasured). Used for 100,000 briefs, where run.py (which regenerates the corpus and
# warms every tool first) takes over half an hour. See docs/PERFORMANCE.md.
#
#   python bench/corpus.py --briefs 100000 --tags 200 --seed 1 /tmp/n100000
#   bash bench/feeder_alone.sh /tmp/n100000 2 "python -m feeder build"
#
# Prints one line per build: scenario, wall s, user s, sys s, peak RSS in KiB.
set -euo pipefail
root=$(cd "$1" && pwd)
runs=${2:-2}
feeder=${3:-python -m feeder build}
timed() { /usr/bin/time -f "$1 %e s wall %U user %S sys %M KB" $feeder -C "$root" -q; }
quiet() { $feeder -C "$root" -q; }

extra="$root/content/2099-extra-bench-brief.md"
edited=$(find "$root/content" -name '*.md' | sort | sed -n 1p)  # sed reads it all: no SIGPIPE
original=$(mktemp)
cp "$edited" "$original"
trap 'cp "$original" "$edited"; rm -f "$extra" "$original"' EXIT

rm -rf "$root/public" "$root/.feeder-cache"
sync
timed cold
for _ in $(seq "$runs"); do
  timed noop
  printf -- '---\ntitle: "An Extra Brief"\ndate: 2024-12-31\ntags: [shipping, nigeria]\n---\nExtra.\n\n## The Short of It\n\nSomething happened.\n' > "$extra"
  timed add
  rm -f "$extra"; quiet
  printf '\nOne more sentence, edited.\n' >> "$edited"
  timed edit
  cp "$original" "$edited"; quiet
done

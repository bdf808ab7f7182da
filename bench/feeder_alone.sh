#!/usr/bin/env bash
# feeder alone on a corpus already generated, timed like run.py times a build (GNU time reads
# the child's wait4 rusage): a cold build, then RUNS times a no-op, adding one brief and editing
# one brief (each undone and rebuilt, unmeasured). For 100,000 briefs, where run.py (which
# also builds with Hugo three ways) takes hours. The added and edited briefs are the ones
# run.py uses (corpus.py writes them to bench-scenarios/).
#
#   python bench/corpus.py /tmp/n100000 --briefs 100000 --tags 200 --seed 1
#   bash bench/feeder_alone.sh /tmp/n100000 1 "python -m feeder build"
#
# Prints one line per build: scenario, wall s, user s, sys s, peak RSS in KiB.
set -euo pipefail
root=$(cd "$1" && pwd)
runs=${2:-1}
feeder=${3:-python -m feeder build}
unset PYTHONDONTWRITEBYTECODE  # feeder's modules compiled once, as a user's installed copy has them
timed() { /usr/bin/time -f "$1 %e s wall %U user %S sys %M KB" $feeder -C "$root" -q; }
quiet() { $feeder -C "$root" -q; }
manifest() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
  "$root/bench-manifest.json" "$1"; }

added="$root/$(manifest added_brief)"
edited="$root/$(manifest edited_brief)"
original=$(mktemp)
cp "$edited" "$original"
trap 'cp "$original" "$edited"; rm -f "$added" "$original"' EXIT

rm -rf "$root/public" "$root/.feeder-cache"
sync
timed cold
for _ in $(seq "$runs"); do
  sync; timed noop
  mkdir -p "$(dirname "$added")"
  cp "$root/bench-scenarios/added" "$added"
  sync; timed add
  grep -q bench-added "$root/public/atom.xml" || echo "add: the new brief is NOT in atom.xml"
  rm -f "$added"; quiet
  cp "$root/bench-scenarios/edited" "$edited"
  sync; timed edit
  grep -q zqxedit "$root/public/atom.xml" || echo "edit: the edit is NOT in atom.xml"
  cp "$original" "$edited"; quiet
done

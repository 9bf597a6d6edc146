#!/usr/bin/env bash
# The same harness against several builds of the library, run alternately: for telling whether a change to src/Tether
# made the in-process request or ping-pong faster or slower, without the harness itself changing between the builds
# (the benchmark project changes with its commits; this program does not). See benchmarks/library-ab/Program.cs.
#
#   benchmarks/library-ab.sh [--mode request|harness|pingpong] [--runs R] [--n N] [--rounds K] BUILD...
#
# BUILD is a commit (built in a temporary worktree) or a directory holding a built Tether.dll. Each of the R runs starts
# every build once, in the order given, as a fresh process of K rounds; a run's figure is the median of its rounds.
# Prints each run, then per build the median over runs [min-max] and its ratio to the first build.
# request: N requests per round (default 200,000), figure p50 µs (p99 and CPU per request beside it).
# harness: request-p50 timed as Tether.Benchmarks --quick does (an async lambda, rounds of N = 5,000 after forced full
#   collections, 50 rounds of warm-up; default 3 rounds), same figures.
# pingpong: N round trips per round (default 2,000,000), figure M msg/s (CPU ns per message beside it).
set -euo pipefail
mode=request runs=6 n= rounds=5 rounds_set=0
builds=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --mode) mode=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --n) n=$2; shift 2 ;;
    --rounds) rounds=$2; rounds_set=1; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) builds+=("$1"); shift ;;
  esac
done
[[ "$mode" == request || "$mode" == harness || "$mode" == pingpong ]] || { echo "error: --mode is request, harness or pingpong, not '$mode'" >&2; exit 2; }
[[ ${#builds[@]} -ge 1 ]] || { echo "error: name at least one build (a commit or a directory with Tether.dll); --help" >&2; exit 2; }
case "$mode" in
  request) n=${n:-200000} ;;
  harness) n=${n:-5000}; [[ "$rounds_set" == 1 ]] || rounds=3 ;;
  pingpong) n=${n:-2000000} ;;
esac
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
work=$(mktemp -d "${TMPDIR:-/tmp}/library-ab.XXXXXX")
worktrees=()
cleanup() {
  for w in "${worktrees[@]}"; do git -C "$repo" worktree remove --force "$w" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

apps=()
for i in "${!builds[@]}"; do
  b=${builds[$i]}
  if [[ -f "$b/Tether.dll" ]]; then
    lib=$(cd "$b" && pwd)
  else
    git -C "$repo" rev-parse --verify --quiet "$b^{commit}" >/dev/null || { echo "error: '$b' is neither a commit nor a directory with Tether.dll" >&2; exit 2; }
    wt="$work/wt-$i"
    git -C "$repo" worktree add --detach "$wt" "$b" >/dev/null 2>&1
    worktrees+=("$wt")
    echo "building Tether at $b ..." >&2
    dotnet build "$wt/src/Tether/Tether.csproj" -c Release -nologo -clp:ErrorsOnly -v q >&2
    lib="$wt/src/Tether/bin/Release/net10.0"
  fi
  src="$work/src-$i"
  mkdir -p "$src"
  cp "$repo/benchmarks/library-ab/"*.cs "$repo/benchmarks/library-ab/"*.csproj "$repo/benchmarks/library-ab/"*.props "$src/"
  dotnet build "$src/LibraryAb.csproj" -c Release -nologo -clp:ErrorsOnly -v q -p:TetherDir="$lib" -o "$work/app-$i" >&2
  apps+=("$work/app-$i/LibraryAb.dll")
done

results="$work/results.txt"
for r in $(seq 1 "$runs"); do
  for i in "${!builds[@]}"; do
    out=$(dotnet "${apps[$i]}" "$mode" "$n" "$rounds")
    line=$(echo "$out" | python3 -c '
import sys, re, statistics as st
mode = sys.argv[1]
a, b, c = [], [], []
for l in sys.stdin:
    if mode != "pingpong":
        m = re.search(r"p50 ([\d.]+) µs p99 ([\d.]+) µs mean [\d.]+ µs cpu ([\d.]+)", l)
    else:
        m = re.search(r"([\d.]+) M msg/s cpu ([\d.]+)", l)
    if m:
        a.append(float(m.group(1))); b.append(float(m.group(2)))
        if mode != "pingpong": c.append(float(m.group(3)))
if mode != "pingpong":
    print(f"{st.median(a):.3f} p99 {st.median(b):.3f} cpu {st.median(c):.3f}")
else:
    print(f"{st.median(a):.2f} cpu {st.median(b):.1f}")
' "$mode")
    load=$(cut -d' ' -f1 /proc/loadavg)
    echo "run $r ${builds[$i]}: $line (load $load)"
    echo "$i ${line%% *}" >> "$results"
  done
done

python3 - "$results" "$mode" "${builds[@]}" <<'PY'
import sys, statistics as st
path, mode, builds = sys.argv[1], sys.argv[2], sys.argv[3:]
vals = {i: [] for i in range(len(builds))}
for line in open(path):
    i, v = line.split()
    vals[int(i)].append(float(v))
unit = "p50 µs (lower is better)" if mode != "pingpong" else "M msg/s (higher is better)"
print(f"\n{mode}, {unit}: median over runs [min-max], ratio to {builds[0]}")
base = st.median(vals[0])
for i, b in enumerate(builds):
    m = st.median(vals[i])
    print(f"  {b}: {m:.3f} [{min(vals[i]):.3f}-{max(vals[i]):.3f}]  x{m / base:.2f}")
PY

#!/usr/bin/env bash
# Checks `tether hash DIR` against sha256sum and times it against `find | xargs -P2 sha256sum`.
#
#   benchmarks/hash-vs-sha256sum.sh [--quick] [--small-only] [--no-build] [--keep] [--data DIR] [--runs N]
#
#   (a) 100,000 files of 1-16 KB in 1,000 nested folders (--quick: 10,000 files)
#   (b) 20 files of 100 MB (--quick: 2; --small-only skips this set)
#
# For each set: the output of `tether hash DIR` must equal, byte for byte,
#   (cd DIR && find . -type f -print0 | sed -z 's|^\./||' | sort -z | xargs -0 sha256sum)   with LC_ALL=C;
# then one warm-up run and N (--runs, default 3) alternating timed runs of each command (page cache warm for both), and the ratio of the medians.
# TETHER_DLL=path overrides the tether assembly; TMPDIR chooses where the data goes (about 2.9 GB, 1 GB with --quick).
# --data DIR keeps the trees in DIR (DIR/small-N, DIR/large-N) and reuses them on later runs; --runs N sets the timed runs.
# Exit codes: 0 all equal, 1 a mismatch or a failed command, 2 bad arguments.
set -euo pipefail
export LC_ALL=C

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }

quick=0 small_only=0 build=1 keep=0 data="" runs=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1 ;;
    --small-only) small_only=1 ;;
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    --data) [[ $# -ge 2 && -n $2 ]] || { echo "error: --data needs a directory" >&2; usage >&2; exit 2; }; data=$2; shift ;;
    --runs) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || { echo "error: --runs needs a positive number" >&2; usage >&2; exit 2; }; runs=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
small_files=100000 large_files=20
if [[ $quick == 1 ]]; then small_files=10000 large_files=2; fi

for tool in dotnet sha256sum find xargs sort perl; do
  command -v "$tool" >/dev/null || { echo "error: '$tool' is needed and not on PATH" >&2; exit 1; }
done

if [[ $build == 1 ]]; then
  echo "building: dotnet build -c Release src/Tether.Cli" >&2
  dotnet build -c Release "$root/src/Tether.Cli" -v quiet -nologo >&2
fi

tether_dll="${TETHER_DLL:-$root/src/Tether.Cli/bin/Release/net10.0/tether.dll}"
if [[ ! -f $tether_dll && -z ${TETHER_DLL:-} && -f $root/src/Tether.Cli/bin/Release/net10.0/Tether.Cli.dll ]]; then
  tether_dll="$root/src/Tether.Cli/bin/Release/net10.0/Tether.Cli.dll"
  echo "note: tether.dll not found; using $tether_dll" >&2
fi
[[ -f $tether_dll ]] || { echo "error: $tether_dll not found (build src/Tether.Cli in Release, or set TETHER_DLL)" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/tether-hash-bench.XXXXXX")"
cleanup() { if [[ $keep == 1 ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Files of 1-16 KB from /dev/urandom, spread over 10 x 10 x 10 = 1,000 nested leaf folders; every 997th name has a space.
make_small() {
  local dir=$1 count=$2
  perl -e '
    use strict; use warnings; use File::Path qw(make_path);
    my ($dir, $count) = @ARGV;
    srand(20251125);
    open(my $rnd, "<:raw", "/dev/urandom") or die "urandom: $!";
    for my $i (0 .. $count - 1) {
      my $leaf = $i % 1000;
      my $path = sprintf("%s/d%d/e%d/f%d", $dir, int($leaf / 100), int($leaf / 10) % 10, $leaf % 10);
      make_path($path) if $i < 1000;
      my $size = 1024 + int(rand(15 * 1024 + 1));
      read($rnd, my $data, $size) == $size or die "short read";
      my $name = ($i % 997 == 0) ? "file $i.bin" : "file-$i.bin";
      open(my $out, ">:raw", "$path/$name") or die "$path/$name: $!";
      print $out $data; close($out) or die "close: $!";
    }' "$dir" "$count"
}

make_large() {
  local dir=$1 count=$2
  mkdir -p "$dir"
  for ((i = 0; i < count; i++)); do
    head -c $((100 * 1024 * 1024)) /dev/urandom > "$dir/large-$i.bin"
  done
}

now_ns() { date +%s%N; }

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

failed=0
summary=()

bench_set() {
  local name=$1 dir=$2 xargs_extra=$3
  local files bytes
  files=$(find "$dir" -type f | wc -l)
  bytes=$(du -sb "$dir" | cut -f1)
  echo
  echo "== $name: $files files, $((bytes / 1024 / 1024)) MiB in $dir"

  # correctness
  local expected="$work/$name.expected" actual="$work/$name.actual"
  (cd "$dir" && find . -type f -print0 | sed -z 's|^\./||' | sort -z | xargs -0 sha256sum) > "$expected"
  if ! dotnet "$tether_dll" hash "$dir" > "$actual" 2> "$work/$name.stderr"; then
    echo "FAIL: tether hash exited non-zero; stderr:"; head -20 "$work/$name.stderr"
    failed=1
  fi
  if cmp -s "$expected" "$actual"; then
    echo "output: identical to sha256sum ($(wc -l < "$actual") lines)"
  else
    failed=1
    if cmp -s <(sort "$expected") <(sort "$actual"); then
      echo "FAIL: same lines as sha256sum but in another order"
    else
      echo "FAIL: output differs from sha256sum (expected $(wc -l < "$expected") lines, got $(wc -l < "$actual")); first differences:"
    fi
    diff "$expected" "$actual" | head -10 || true
  fi

  # timing: one warm-up each, then $runs alternating timed runs
  local baseline="find DIR -type f -print0 | xargs -0 -P2 ${xargs_extra:+$xargs_extra }sha256sum > /dev/null"
  local t_tether=() t_base=() start
  dotnet "$tether_dll" hash "$dir" > /dev/null 2>&1 || true
  find "$dir" -type f -print0 | xargs -0 -P2 $xargs_extra sha256sum > /dev/null
  for ((r = 0; r < runs; r++)); do
    start=$(now_ns)
    dotnet "$tether_dll" hash "$dir" > /dev/null 2>&1 || true
    t_tether+=($(( $(now_ns) - start )))
    start=$(now_ns)
    find "$dir" -type f -print0 | xargs -0 -P2 $xargs_extra sha256sum > /dev/null
    t_base+=($(( $(now_ns) - start )))
  done
  local m_tether m_base
  m_tether=$(printf '%s\n' "${t_tether[@]}" | median)
  m_base=$(printf '%s\n' "${t_base[@]}" | median)
  local line
  line=$(awk -v t="$m_tether" -v b="$m_base" -v n="$name" 'BEGIN {
    r = t / b;
    printf "%-6s tether hash %8.3f s | %s %8.3f s | ", n, t / 1e9, "find|xargs -P2 sha256sum", b / 1e9;
    if (r <= 1) printf "tether %.2fx faster", 1 / r; else printf "tether %.2fx slower", r }')
  echo "runs (s): tether $(printf '%s ' "${t_tether[@]}" | awk '{ for (i = 1; i <= NF; i++) printf "%.3f ", $i / 1e9 }')| baseline $(printf '%s ' "${t_base[@]}" | awk '{ for (i = 1; i <= NF; i++) printf "%.3f ", $i / 1e9 }')"
  echo "baseline: $baseline"
  echo "$line"
  summary+=("$line")
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tether: dotnet $tether_dll hash DIR"

# With --data, a tree is generated once (a .complete marker says it was finished) and reused afterwards.
small_dir="$work/small" large_dir="$work/large"
if [[ -n $data ]]; then
  mkdir -p "$data"
  small_dir="$(cd "$data" && pwd)/small-$small_files" large_dir="$(cd "$data" && pwd)/large-$large_files"
fi

if [[ -f $small_dir.complete ]]; then
  echo "reusing $small_dir" >&2
else
  rm -rf "$small_dir"
  echo "generating $small_files small files ..." >&2
  start=$(now_ns)
  make_small "$small_dir" "$small_files"
  echo "  done in $(( ($(now_ns) - start) / 1000000 )) ms" >&2
  [[ -z $data ]] || touch "$small_dir.complete"
fi
bench_set small "$small_dir" ""

if [[ $small_only == 0 ]]; then
  if [[ -f $large_dir.complete ]]; then
    echo "reusing $large_dir" >&2
  else
    rm -rf "$large_dir"
    echo "generating $large_files files of 100 MB ..." >&2
    make_large "$large_dir" "$large_files"
    [[ -z $data ]] || touch "$large_dir.complete"
  fi
  # -n 1: without it xargs hands all the large files to one sha256sum, and -P2 would run nothing in parallel.
  bench_set large "$large_dir" "-n 1"
fi

echo
echo "== summary (medians of $runs runs; lower time is better)"
printf '%s\n' "${summary[@]}"
if [[ $failed != 0 ]]; then
  echo "RESULT: FAILED (see above)"
  exit 1
fi
echo "RESULT: outputs identical"

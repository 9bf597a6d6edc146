#!/usr/bin/env bash
# Rewrites src/*/PublicAPI.Unshipped.txt from a build, so that the checked-in public surface matches the code:
# every public symbol the PublicApiAnalyzers report as undeclared (RS0016) is listed, and every declared symbol that
# no longer exists (RS0017) is dropped, or marked *REMOVED* when it was shipped. Run it after a change to the public
# API (or after a merge), read the diff of the PublicAPI files, and commit them with the change.
# Shipping a release: move the lines of each Unshipped file into its Shipped file (the analyzer's convention).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

mapfile -t libraries < <(find src -mindepth 2 -maxdepth 2 -name PublicAPI.Shipped.txt -printf '%h\n' | sort)
if [ "${#libraries[@]}" -eq 0 ]; then
  echo "public-api.sh: no src/*/PublicAPI.Shipped.txt found" >&2
  exit 1
fi

for dir in "${libraries[@]}"; do
  printf '#nullable enable\n' > "$dir/PublicAPI.Unshipped.txt"
done

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# First every library and what it references, as usual (warnings stay warnings for these builds only); then each
# library alone and from scratch, because analyzers report only on a compilation that runs.
for dir in "${libraries[@]}"; do
  name="$(basename "$dir")"
  dotnet build "$dir/$name.csproj" -c Release -nologo -p:TreatWarningsAsErrors=false -v quiet >/dev/null 2>&1 || true
done
for dir in "${libraries[@]}"; do
  name="$(basename "$dir")"
  dotnet build "$dir/$name.csproj" -c Release -nologo --no-incremental --no-dependencies -p:TreatWarningsAsErrors=false -v quiet >>"$log" 2>&1 || true
done

for dir in "${libraries[@]}"; do
  name="$(basename "$dir")"
  project="$root/$dir/$name.csproj"
  added="$( (grep -F "[$project]" "$log" || true) | sed -nE "s/.*warning RS0016: Symbol '(.*)' is not part of the declared public API.*/\1/p" | sort -u)"
  removed="$( (grep -F "[$project]" "$log" || true) | sed -nE "s/.*warning RS0017: Symbol '(.*)' is part of the declared API, but is either not public or could not be found.*/\1/p" | sort -u)"
  {
    printf '#nullable enable\n'
    {
      if [ -n "$added" ]; then printf '%s\n' "$added"; fi
      if [ -n "$removed" ]; then printf '%s\n' "$removed" | sed 's/^/*REMOVED*/'; fi
    } | LC_ALL=C sort -u
  } >"$dir/PublicAPI.Unshipped.txt"
  echo "$dir: $(printf '%s' "$added" | grep -c . || true) unshipped, $(printf '%s' "$removed" | grep -c . || true) removed"
done

others="$(grep -oE "(warning|error) RS00[0-9]+" "$log" | grep -vE "RS0016|RS0017" | sort | uniq -c || true)"
if [ -n "$others" ]; then
  echo "public-api.sh: other public-API diagnostics remain (fix them by hand):" >&2
  grep -E "(warning|error) RS00[0-9]+" "$log" | grep -vE "RS0016|RS0017" | sed -E 's/ \[.*//' | sort -u >&2
  exit 1
fi

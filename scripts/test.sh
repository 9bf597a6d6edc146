#!/usr/bin/env bash
# Runs every test of the solution, installing what the tests need first.
# Ends with one line "N passed, N failed" summed over all test projects; exits non-zero on any failure.
# TETHER_STRESS=1 makes the fuzz test (tests/Tether.Nats.Tests/FuzzTests.cs) send 1,000,000 frames instead of 100,000,
# and runs the soak (tests/Tether.Nats.Tests/SoakTests.cs) for 120 s; TETHER_SOAK_SECONDS=N runs the soak for N seconds.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

need() { command -v "$1" >/dev/null 2>&1; }

if ! need dotnet; then
  echo "test.sh: the .NET 10 SDK is missing (no 'dotnet' on PATH); install it from https://dot.net" >&2
  exit 127
fi

# Debian packages the tests use: coreutils' sha256sum (reference output), util-linux's setpriv and runuser (run the CLI
# and PostgreSQL unprivileged), nats-server (the real broker the multi-node tests start on free loopback ports),
# postgresql (the user store and the demo supplier's tests start their own server in a temp dir), chromium (the
# headless browser the RemoteSkin tests drive through Playwright; never `playwright install`), iproute2's `ip` (the
# local pods' network namespaces) and npm (the offline Kubernetes schema check of deploy/k8s).
missing=()
need sha256sum || missing+=(coreutils)
need setpriv || missing+=(util-linux)
[ -x /usr/sbin/nats-server ] || need nats-server || missing+=(nats-server)
compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null && compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/ip ] || need ip || missing+=(iproute2)
need npm || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && need apt-get; then
    echo "test.sh: installing ${missing[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "test.sh: missing Debian packages: ${missing[*]} (install them with apt-get as root)" >&2
    exit 127
  fi
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log="$(mktemp)"
trap 'rm -f "$log" "$log.all"' EXIT

dotnet build Tether.slnx -c Release -nologo -clp:ErrorsOnly 2>&1 | tee "$log"
build=${PIPESTATUS[0]}
if [ "$build" -ne 0 ]; then
  echo "test.sh: the build failed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

# One test project at a time: the failure-detection tests time heartbeats, and a neighbour spawning a million
# targets in parallel on 2 cores would only add noise.
status=0
: > "$log.all"
for project in $(find tests -name '*.Tests.csproj' | sort); do
  # A test host that hangs is stopped after 10 minutes with a dump naming the test, never left to CI's own limit.
  dotnet test "$project" -c Release --no-build -nologo --blame-hang-timeout 10m 2>&1 | tee "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  cat "$log" >> "$log.all"
done
mv "$log.all" "$log"

# Belt and braces: the tests stop every nats-server they start; a crashed test host cannot. Stop any such leftover
# (only servers the tests started: their log lives in a tether-nats-* temp folder).
leftover=$(pgrep -f 'nats-server .*tether-(nats|demo)-|Tether\.Cli\.dll (node --name|demo)|postgres -D .*tether-pg-' || true)
if [ -n "$leftover" ]; then
  echo "test.sh: warning: stopping processes a test left behind (a cleanup bug to fix): $leftover" >&2
  kill $leftover 2>/dev/null || true
fi

# The same for the local pods' network namespaces (tpod-*) a crashed test host could not remove: end what runs in
# them, then remove them (a namespace's veth goes with it).
for ns in $( (ip netns list 2>/dev/null || true) | awk '/^tpod-/ {print $1}'); do
  echo "test.sh: warning: removing network namespace $ns a test left behind (a cleanup bug to fix)" >&2
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
done

passed=0
failed=0
while read -r f p; do
  passed=$((passed + p))
  failed=$((failed + f))
done < <(sed -nE 's/^.*(Passed|Failed)! +- +Failed: +([0-9]+), +Passed: +([0-9]+),.*$/\2 \3/p' "$log")

projects=$(find tests -name '*.Tests.csproj' | wc -l)
reported=$(grep -cE '(Passed|Failed)! +- +Failed:' "$log")
if [ "$reported" -lt "$projects" ]; then
  echo "test.sh: only $reported of $projects test projects reported results (a test host crashed?)" >&2
  failed=$((failed + projects - reported))
  status=1
fi

if grep -q "Test Run Aborted" "$log"; then
  echo "test.sh: a test run was aborted (see above)" >&2
  status=1
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the runner failed without naming a test (crash, abort): count it, never report a clean run
fi

echo "$passed passed, $failed failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then
  exit 1
fi
exit 0

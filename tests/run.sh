#!/usr/bin/env bash
# Runs every test of the solution on a bare machine. It does its own setup: the build restores the NuGet
# packages (DuckDB's native library comes with DuckDB.NET, librdkafka's with librdkafka.redist), installs kcat
# and chromium from Debian when missing, and the test fixtures install and start their servers (Azurite from npm, librdkafka's
# Kafka mock cluster in the test process) on 127.0.0.1 with free ports and stop them afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { echo "tests/run.sh: '$1' is required ($2)" >&2; exit 1; }; }
need dotnet "the .NET SDK pinned in global.json"
need node "Node.js runs Azurite (the local Azure Blob service) and cosmosdb-server (the local Cosmos DB)"
need npm "npm installs Azurite and @vercel/cosmosdb-server (the test fixtures do, on first use)"

sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
apt_updated=""
# apt_install COMMAND "PACKAGES" WHAT-FAILS-WITHOUT: installs the Debian packages when COMMAND is missing.
apt_install() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "== installing $2"
  [ -n "$apt_updated" ] || { $sudo_ apt-get update -qq >/dev/null || true; apt_updated=1; }
  # shellcheck disable=SC2086 # $2 is a list of packages
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends $2 >/dev/null \
    || echo "tests/run.sh: could not install $2 (apt-get install -y $2); $3 will fail" >&2
}

# kcat (Debian's Kafka client) is the outside producer of the Kafka tests; they fail, naming it, when it is missing.
apt_install kcat kcat "the Kafka tests"
# chromium (Debian's, headless) is the browser of the dashboard tests; they fail, naming it, when it is missing. Its fonts
# are a recommendation only: installed too, so that the screenshots the tests keep show text.
apt_install chromium "chromium fonts-liberation" "the dashboard's browser tests"
# openssl makes the Cosmos DB test server's TLS certificate (the one bundled with @vercel/cosmosdb-server has expired).
apt_install openssl openssl "the Cosmos DB state store tests"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

echo "== build"
dotnet build Lakehouse.sln -c Release -nologo -v quiet -clp:ErrorsOnly

echo "== format check"
dotnet format Lakehouse.sln --verify-no-changes --no-restore -v quiet

# The ADF files checked from outside, as a new user would: ajv + ajv-draft-04 (npm) against Microsoft's schema and the overlay.
echo "== ADF files against Microsoft's schema (ajv)"
command -v npm >/dev/null || apt_install npm "nodejs npm" "the ADF schema check with ajv"
adf_status=0
# The ARM template 'lakehouse adf export-arm' writes is checked the same way (against local/adf-arm-template.schema.json).
arm_template=$(mktemp --suffix=.json)
dotnet pipelines/Lakehouse.Cli/bin/Release/net10.0/lakehouse.dll adf export-arm --folder pipelines/adf ${LAKEHOUSE_SHARED:+--schemas "$LAKEHOUSE_SHARED/schemas/adf"} --out "$arm_template" || adf_status=1
(cd tests/adf-ajv && npm ci --no-audit --no-fund --silent && node check.mjs "${LAKEHOUSE_SHARED:-../../../shared}/schemas/adf" ../../pipelines/adf "$arm_template") || adf_status=1
rm -f "$arm_template"

echo "== tests"
log=$(mktemp)
set +e
dotnet test Lakehouse.sln -c Release --no-build -nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One closing line over all test assemblies: "N passed, N failed, N skipped".
awk '/(Passed|Failed)! +- +Failed:/ {
       gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
[ "$adf_status" = 0 ] || { echo "ADF schema check with ajv failed (see above)"; [ "$status" != 0 ] || status=1; }
exit "$status"

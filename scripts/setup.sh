#!/usr/bin/env bash
# setup.sh - installs what edonu-ingest needs on Debian 12 and builds it in build/.
#
# Idempotent: apt runs only when a package is missing, and meson only
# reconfigures an existing build directory.  Runs apt as root, or through
# sudo for an ordinary user.  Set BUILD_DIR to build somewhere else.
set -euo pipefail

# Build tools and libraries, the servers the tests and the demo start, and
# the tools the scripts use (zstd, jq, python3 for the fidelity corpus and JSON
# checks, procps for pgrep/ps, util-linux for runuser, tzdata for the
# server's time zones, locales for C.UTF-8 tooling, chromium for the pages'
# browser tests).
PACKAGES=(
	build-essential
	meson
	ninja-build
	pkg-config
	liburing-dev
	libpq-dev
	libhiredis-dev
	libzstd-dev
	libinih-dev
	libcunit1-dev
	postgresql-15
	postgresql-client-15
	redis-server
	redis-tools
	prometheus # promtool, which checks the metrics exposition and the alert rules
	chromium   # headless, renders the dashboard and the bench report in the tests
	zstd
	jq # the tests and bench scripts read the loader's JSON summaries
	clang-format # the format check of the sources
	python3
	python3-yaml # the deploy test reads the Kubernetes manifests
	systemd # systemd-analyze verify checks the units
	procps
	time # GNU time: a load's peak RSS (tests/integration/large_records.sh)
	util-linux
	iproute2 # ss, which the tests use to see where the metrics server listens
	clang-14 # the fuzz targets (fuzz/, scripts/fuzz.sh): clang's libFuzzer
	libclang-rt-14-dev
	tzdata
)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-build}"

log() {
	printf 'setup: %s\n' "$*" >&2
}

# missing_packages: prints the packages that dpkg does not report installed.
missing_packages() {
	local pkg status
	for pkg in "${PACKAGES[@]}"; do
		status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
		if [[ "$status" != "installed" ]]; then
			echo "$pkg"
		fi
	done
}

as_root() {
	if [[ $EUID -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		log "need root (or sudo) to run: $*"
		exit 1
	fi
}

install_packages() {
	local missing
	if ! command -v dpkg-query >/dev/null; then
		log "dpkg-query not found: this script supports Debian 12; install the packages by hand: ${PACKAGES[*]}"
		exit 1
	fi
	mapfile -t missing < <(missing_packages)
	if ((${#missing[@]} == 0)); then
		log "all ${#PACKAGES[@]} packages already installed"
		return 0
	fi
	log "installing: ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# The Debian postgresql package would create and start a cluster on
	# port 5432; the tests never use it, so do not create one.
	if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
		as_root mkdir -p /etc/postgresql-common/createcluster.d
		echo 'create_main_cluster = false' |
			as_root tee /etc/postgresql-common/createcluster.d/edonu-ingest.conf >/dev/null
	fi
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
	cd "$ROOT"
	if [[ -f "$BUILD_DIR/build.ninja" ]]; then
		meson setup --reconfigure "$BUILD_DIR" --buildtype=release
	else
		meson setup "$BUILD_DIR" --buildtype=release
	fi
	ninja -C "$BUILD_DIR"
}

main() {
	install_packages
	build
	log "built $ROOT/$BUILD_DIR/edonu-ingest"
}

main "$@"

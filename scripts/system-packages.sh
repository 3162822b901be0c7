#!/usr/bin/env bash
# The system packages the whole test suite needs (services, browser, SDK toolchains, promtool), installed
# from Debian/Ubuntu's archive when missing. `make test` runs this first so that one command
# works on a fresh machine; elsewhere it prints what to install and lets the tests say what is
# missing (under CI=true a missing service fails the run).
set -euo pipefail

# command or file that proves the package is there | Debian package(s)
NEEDED=(
  "redis-server|redis-server"
  "${LUDEX_CHROMIUM:-/usr/bin/chromium}|chromium"
  "node|nodejs"
  "npm|npm"
  "promtool|prometheus"
)

present() {
  case "$1" in
    /*) [ -e "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

missing=()
for entry in "${NEEDED[@]}"; do
  probe=${entry%%|*} packages=${entry#*|}
  present "$probe" || missing+=($packages)
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

echo "system packages: installing ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system packages: no apt-get here; install the equivalents of: ${missing[*]}" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "system packages: not root and no sudo; install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

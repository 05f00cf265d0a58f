#!/usr/bin/env bash
# What `make test` needs besides the Python packages, installed when it is missing:
#   chromium  Debian's browser, which tests/browser drive through Playwright (apt-get)
#   gettext   msgfmt, which compiles the French catalogue (apt-get)
#   npm       to install axe-core (apt-get; only when npm itself is missing)
#   axe-core  the accessibility checker tests/browser inject (npm ci --prefix tests/browser)
# Prints one line per thing it installs and nothing when everything is there (it only
# looks, so it is quick). apt-get runs as root, through sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."

BROWSER_TESTS=tests/browser
log=$(mktemp -t removal-desk-test-deps.XXXXXX)
trap 'rm -f "$log"' EXIT

fail() {  # what failed; its output is in $log
  echo "make test: $1 failed; its last lines:" >&2
  tail -n 20 "$log" >&2
  exit 1
}

packages=()
need() {  # command, Debian package, why
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "make test: installing $2 (apt-get install -y $2): $3"
    packages+=("$2")
  fi
}
need chromium chromium "the browser tests drive it"
need msgfmt gettext "msgfmt compiles the French catalogue"
axe="$BROWSER_TESTS/node_modules/axe-core/axe.min.js"
installed_lock="$BROWSER_TESTS/node_modules/.package-lock.json"
if [ ! -f "$axe" ] || [ "$BROWSER_TESTS/package-lock.json" -nt "$installed_lock" ]; then
  need_axe=1
  need npm npm "it installs axe-core"
else
  need_axe=""
fi

if [ ${#packages[@]} -gt 0 ]; then
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "make test: apt-get needs root and sudo is not installed; run 'make test' as root once." >&2
      exit 1
    fi
    as_root=(sudo)
  fi
  # A fresh machine may have no package lists yet: update first, once.
  ${as_root[@]+"${as_root[@]}"} apt-get update >"$log" 2>&1 || fail "apt-get update"
  ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y "${packages[@]}" \
    >>"$log" 2>&1 || fail "apt-get install -y ${packages[*]}"
  for pair in chromium:chromium msgfmt:gettext npm:npm; do
    command=${pair%%:*} package=${pair##*:}
    case " ${packages[*]} " in
      *" $package "*)
        command -v "$command" >/dev/null 2>&1 ||
          { echo "make test: apt-get installed $package but there is still no $command on PATH." >&2; exit 1; }
        ;;
    esac
  done
fi

if [ -n "$need_axe" ]; then
  echo "make test: installing axe-core (npm ci --prefix $BROWSER_TESTS): the browser tests inject it"
  npm ci --prefix "$BROWSER_TESTS" --no-audit --no-fund --prefer-offline >"$log" 2>&1 ||
    fail "npm ci --prefix $BROWSER_TESTS"
  [ -f "$axe" ] || { echo "make test: npm ci ran but $axe is missing." >&2; exit 1; }
fi

#!/usr/bin/env bash
# Installs Debian packages a test needs when a file they provide is missing:
#   tools/ci/ensure-packages.sh /usr/bin/chromium chromium
#   tools/ci/ensure-packages.sh /usr/bin/jupyter-nbconvert jupyter-nbconvert python3-nbclient
# Only on Debian/Ubuntu (apt-get) and as root, as on CI; elsewhere it says what to install and
# exits 0, and the test that needs the packages reports them missing. --no-install-recommends
# keeps the install lean. Prints how long it took.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 FILE-THE-PACKAGES-PROVIDE PACKAGE..." >&2
  exit 2
fi
probe="$1"
shift
if [[ -e "$probe" ]]; then
  echo "ensure-packages: $probe present; nothing to install"
  exit 0
fi
if ! command -v apt-get > /dev/null || [[ "$(id -u)" != 0 ]]; then
  echo "ensure-packages: $probe is missing and this is not a root Debian/Ubuntu machine;" \
    "install the packages yourself: $*" >&2
  exit 0
fi
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp -t ensure-packages.XXXXXX)"
# A bare machine may have no package lists yet; refresh them only when the install needs it.
if ! apt-get install -y -q --no-install-recommends "$@" > "$log" 2>&1; then
  apt-get update -q >> "$log" 2>&1
  if ! apt-get install -y -q --no-install-recommends "$@" >> "$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "ensure-packages: could not install $*; full log in $log" >&2
    exit 1
  fi
fi
rm -f "$log"
echo "ensure-packages: installed $* in $(( $(date +%s) - start )) s"

#!/usr/bin/env bash
# Installs what building and testing Perimeter needs, from Debian packages and (for the
# end-to-end clients and benchmark peers) the npm registry with committed lockfiles. Installs only
# what is missing, so a second run costs a few dpkg queries.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev libicu-dev libhyperscan-dev libnghttp2-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev
  libphonenumber8 libprotobuf-dev libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang clang-format clang-tidy
  nodejs npm openssl curl
  nginx-light wrk
)

missing=()
for p in "${PACKAGES[@]}"; do
  # node/npm may come from elsewhere on the image; only install them when the commands are absent.
  if [[ "$p" == nodejs ]] && command -v node >/dev/null; then continue; fi
  if [[ "$p" == npm ]] && command -v npm >/dev/null; then continue; fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# libphonenumber: Debian 12's libphonenumber-dev cannot be installed next to Boost 1.81 (it pulls
# in the Boost 1.74 development meta-packages, and Boost 1.74 has no Boost.JSON). The runtime
# library (libphonenumber8) installs fine, so its headers are taken from the same Debian package
# version, fetched with apt-get and unpacked into .deps/ (nothing outside the Debian archive).
if [[ ! -f /usr/include/phonenumbers/phonenumberutil.h && ! -f .deps/libphonenumber/usr/include/phonenumbers/phonenumberutil.h ]]; then
  want=$(dpkg-query -W -f='${Version}' libphonenumber8)
  tmp=$(mktemp -d)
  chmod 0777 "$tmp"  # apt's sandbox user writes the download
  (cd "$tmp" && apt-get download -qq "libphonenumber-dev=$want" 2>/dev/null || apt-get download "libphonenumber-dev=$want")
  rm -rf .deps/libphonenumber
  mkdir -p .deps/libphonenumber
  dpkg -x "$tmp"/libphonenumber-dev_*.deb .deps/libphonenumber
  rm -rf "$tmp"
  echo "install-deps: libphonenumber headers $want in .deps/libphonenumber"
fi

# Nginx from Debian starts a system service on install; the project never uses it.
if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
  systemctl stop nginx || true
fi

npm_ci() {
  local dir=$1
  if [[ -f "$dir/package-lock.json" ]]; then
    # Re-install only when the lockfile changed since the last install.
    local stamp="$dir/node_modules/.perimeter-lock.sha256"
    local want
    want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
      echo "install-deps: npm ci in $dir"
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
      echo "$want" >"$stamp"
    fi
  fi
}
npm_ci tests/e2e
if [[ "${PERIMETER_BENCH_DEPS:-0}" == 1 ]]; then npm_ci bench/portkey; fi

#!/usr/bin/env bash
# Installs moto's server into a private venv (never system-wide) and prints
# the path of its `moto_server` executable. Idempotent and safe to run
# concurrently: a lock serialises installs, a stamp records the version.
#
#   MOTO_VENV    venv directory (default: ${CARGO_TARGET_DIR:-target}/moto-venv)
#   MOTO_VERSION moto version to install (default below, checked to work)
#   PYTHON       interpreter used to create the venv (default: python3)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$repo_root/target}"
venv="${MOTO_VENV:-$target_dir/moto-venv}"
version="${MOTO_VERSION:-5.2.5}"
python="${PYTHON:-python3}"

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9

stamp="$venv/.moto-version"
if [[ -x "$venv/bin/moto_server" && "$(cat "$stamp" 2>/dev/null)" == "$version" ]]; then
    echo "$venv/bin/moto_server"
    exit 0
fi

rm -rf "$venv"
"$python" -m venv "$venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$version" >&2
echo "$version" >"$stamp"
echo "$venv/bin/moto_server"

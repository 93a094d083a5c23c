# Shared by scripts/demo and scripts/test: a virtualenv in .venv with the project installed.
# Works on a fresh Debian 12 with Python 3.11: installs python3-venv when venv is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root for: $*" >&2; return 1; fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> apt-get install ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_venv() {
  local extras="$1"
  apt_install fonts-wqy-zenhei  # the CJK font embedded in 执法文书 PDFs (chengguan.documents.render)
  if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PY" -m venv --help >/dev/null 2>&1 || ! "$PY" -c 'import ensurepip' 2>/dev/null; then
      apt_install python3-venv
    fi
    echo "==> creating $VENV"
    "$PY" -m venv "$VENV"
  fi
  echo "==> pip install -e .[$extras]"
  # (this machine's pip config names local wheel folders that may be absent: drop that noise)
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT[$extras]" 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; }
}

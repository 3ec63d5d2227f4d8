# Sourced by scripts/bootstrap.sh and scripts/install-test-deps.sh.
# ps_apt_install LABEL PACKAGE...: installs the Debian packages that are not installed yet
# (apt-get, as root or through sudo); says which on stderr, prefixed with LABEL.
ps_apt_install() {
  local label=$1 p
  shift
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "$label: installing ${missing[*]}" >&2
  local sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
}

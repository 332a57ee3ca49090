# Sourced first by every shell tool: `TOOL --version` prints the tool's name
# and adaptive's version (from VERSION, the one place it is written) and exits.
if [[ "${1:-}" == "--version" ]]; then
  echo "$(basename "$0") (adaptive $(head -n 1 "$(dirname "${BASH_SOURCE[0]}")/../VERSION"))"
  exit 0
fi

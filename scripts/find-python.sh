#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter, or explain what to install and fail.
set -u
candidates=(python3.13 python3.12 python3)
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
  for v in $(ls -1 "$root/versions" 2>/dev/null | sort -rV); do
    candidates+=("$root/versions/$v/bin/python3")
  done
fi
for dir in "$HOME/.pyenv/versions"/*; do
  [ -x "$dir/bin/python3" ] && candidates+=("$dir/bin/python3")
done
for c in "${candidates[@]}"; do
  path=$(command -v "$c" 2>/dev/null) || continue
  # pyenv shims exist for versions that are not selected; ask the interpreter itself.
  if "$path" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then
    echo "$path"
    exit 0
  fi
done
cat >&2 <<'MSG'
error: Klout needs Python 3.12 or newer (Django 6.1 requires it), and none was found.
Install one, for example:
  pyenv install 3.13        (then run make again)
  sudo apt-get install python3.13 python3.13-venv
MSG
exit 1

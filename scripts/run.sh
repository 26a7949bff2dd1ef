#!/usr/bin/env bash
# Serves the release build from the repository root and says how to sign in.
set -euo pipefail
cd "$(dirname "$0")/.."
data_dir=${VARAI_DATA_DIR:-data}
addr=${VARAI_ADDR:-127.0.0.1:3000}
echo
echo "  VARAi Rollout: http://${addr}"
if [ -f "${data_dir}/first-admin.txt" ]; then
  echo "  First admin (created on first start; change the password under Settings → Your account):"
  sed 's/^/    /' "${data_dir}/first-admin.txt"
else
  echo "  On first start the first admin's username and one-time password are printed below."
fi
echo
exec target/release/varai

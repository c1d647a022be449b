#!/usr/bin/env bash
# Creates (once) the Python virtualenv with the AWS CLI and boto3 that the CloudFront API
# tests drive: target/api-venv, with exactly the versions pinned in scripts/api-requirements.txt.
# Prints the venv's path on its last line. Fails loudly when PyPI cannot be reached.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv="$PWD/target/api-venv"
requirements="$PWD/scripts/api-requirements.txt"
stamp="$venv/.requirements"
# Test processes may run this at the same time: one builds, the others wait and reuse it.
mkdir -p "$PWD/target"
exec 9>"$PWD/target/api-venv.lock"
flock 9
if [ -x "$venv/bin/aws" ] && [ -f "$stamp" ] && cmp -s "$stamp" "$requirements"; then
  echo "$venv"
  exit 0
fi
echo "api-venv: creating $venv with $(grep -v '^#' "$requirements" | tr '\n' ' ')" >&2
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
"$venv/bin/aws" --version >&2
"$venv/bin/python" -c 'import boto3, botocore; print("api-venv: boto3", boto3.__version__, "botocore", botocore.__version__)' >&2
cp "$requirements" "$stamp"
echo "$venv"

#!/usr/bin/env bash
# The steps a CI job runs unattended: deploy the foundation images, export
# their lineage as JSON, and pick the newest descendant for the next job.
#
# The job provides, as for any Pulumi run: PULUMI_BACKEND_URL (or a login),
# PULUMI_CONFIG_PASSPHRASE, AWS credentials, and `pulumi` and a Python with
# amitools_pulumi on PATH. Optional: STACK (default ci), HOME_REGION
# (us-east-1), PICK_REGION (eu-west-1), OUT_DIR (this folder).
set -euo pipefail
cd "$(dirname "$0")"
stack="${STACK:-ci}"
out_dir="${OUT_DIR:-.}"

pulumi stack select "$stack" --create --non-interactive
pulumi config set aws:region "${HOME_REGION:-us-east-1}" --stack "$stack" --non-interactive
pulumi up --yes --non-interactive --skip-preview --stack "$stack"

# The next step reads the exported lineage, not the program.
pulumi stack output lineage --json --stack "$stack" >"$out_dir/lineage.json"
python3 pick_newest.py --region "${PICK_REGION:-eu-west-1}" <"$out_dir/lineage.json" \
  >"$out_dir/newest-image.txt"
echo "newest image in ${PICK_REGION:-eu-west-1}: $(cat "$out_dir/newest-image.txt")"

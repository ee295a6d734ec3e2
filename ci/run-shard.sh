#!/usr/bin/env bash
# A shard job of uept's CI templates (ci/github-actions.yml, ci/gitlab-ci.yml): run shard I of N.
#
#   ci/run-shard.sh I N REPORTS_DIR [uept run options...]
#
# A failed scenario (exit 1) does not fail the job: the merge job judges the whole run by its exit-criteria
# verdict. A problem with the command, config, target or browser (exit 2) or an internal error does.
set -uo pipefail

index=${1:?usage: ci/run-shard.sh I N REPORTS_DIR [options]}
total=${2:?usage: ci/run-shard.sh I N REPORTS_DIR [options]}
reports=${3:?usage: ci/run-shard.sh I N REPORTS_DIR [options]}
shift 3
uept=${UEPT:-.venv/bin/uept}

"$uept" run --shard "$index/$total" --reports "$reports" "$@"
code=$?
if [ "$code" -eq 1 ]; then
  echo "uept-ci: shard $index/$total: a scenario failed or the run was interrupted; the merge job decides"
  exit 0
fi
exit "$code"

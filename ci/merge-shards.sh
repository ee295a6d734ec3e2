#!/usr/bin/env bash
# The final job of uept's CI templates (ci/github-actions.yml, ci/gitlab-ci.yml): join the run folders the
# shard jobs uploaded into one run folder with one report and one signed evidence pack, check the pack, and
# fail when the exit-criteria verdict is not COMPLETE.
#
#   ci/merge-shards.sh SHARDS_DIR OUT_DIR
#
# SHARDS_DIR holds the shards' run folders at any depth (each artifact in a folder of its own is fine).
# Environment:
#   UEPT                     the uept command (default: .venv/bin/uept, as ./bootstrap.sh setup leaves it)
#   UEPT_ADVISORY=1          report the verdict without failing the pipeline (integrity problems still fail it)
#   UEPT_PUBLIC_KEY          the party's registered public key: every shard must be signed by it
#   UEPT_SIGNING_KEY         the party's signing key (a PEM file, from a CI secret); without it every job made
#                            a key of its own, so the shards are joined with --allow-different-signers and a
#                            warning: such a pack shows what ran, but is no evidence of who ran it
#   UEPT_SCENARIO_CATALOGUE  the party's own scenario catalogue, if it has one (the verdict is judged by it)
#   UEPT_MERGE_OPTIONS       more options for `uept merge` (e.g. --no-pdf on a machine without Chromium)
# Exit status: 0 COMPLETE (or advisory), 1 INCOMPLETE or a pack that does not verify, 2 no shard to merge.
set -euo pipefail

shards_dir=${1:?usage: ci/merge-shards.sh SHARDS_DIR OUT_DIR}
out=${2:?usage: ci/merge-shards.sh SHARDS_DIR OUT_DIR}
uept=${UEPT:-.venv/bin/uept}

mapfile -t runs < <(find "$shards_dir" -name run.json -not -path '*/features/*' -printf '%h\n' | sort)
if [ "${#runs[@]}" -eq 0 ]; then
  echo "uept-ci: no shard run folder (run.json) under $shards_dir: did the shard jobs upload their reports?" >&2
  exit 2
fi
echo "uept-ci: merging ${#runs[@]} shard run folder(s): ${runs[*]}"

key=()
if [ -n "${UEPT_PUBLIC_KEY:-}" ]; then
  key=(--key "$UEPT_PUBLIC_KEY")
fi
catalogue=()
if [ -n "${UEPT_SCENARIO_CATALOGUE:-}" ]; then
  catalogue=(--catalogue "$UEPT_SCENARIO_CATALOGUE")
fi
read -r -a options <<< "${UEPT_MERGE_OPTIONS:-}"
signers=()
if [ -z "${UEPT_SIGNING_KEY:-}" ]; then
  echo "uept-ci: WARNING: no UEPT_SIGNING_KEY: each job signed with a key of its own; set the party's signing key" \
       "as a CI secret so that the merged pack is the party's evidence" >&2
  signers=(--allow-different-signers)
fi

"$uept" merge "${runs[@]}" -o "$out" "${key[@]}" "${signers[@]}" "${options[@]}"
pack=$(find "$out" -maxdepth 1 -name 'evidence-pack-*.zip' | head -n 1)
if [ -z "$pack" ]; then
  echo "uept-ci: the merge made no evidence pack (see above)" >&2
  exit 1
fi

# integrity first (hashes, signature, no secret in any file): an advisory run fails on this too
"$uept" verify "$pack" "${key[@]}" --no-completeness

# then the verdict, recomputed from the result files for the party's User Role
if report=$("$uept" verify "$pack" "${key[@]}" "${catalogue[@]}"); then
  echo "$report" | grep -E '^(Flaky scenarios|Verdict):' || true
  echo "uept-ci: exit-criteria verdict: COMPLETE"
  exit 0
fi
echo "$report"
if [ "${UEPT_ADVISORY:-0}" = "1" ]; then
  echo "uept-ci: exit-criteria verdict: INCOMPLETE (advisory run: the pipeline does not fail)"
  exit 0
fi
echo "uept-ci: exit-criteria verdict: INCOMPLETE: failing the pipeline (set UEPT_ADVISORY=1 for an advisory run)" >&2
exit 1

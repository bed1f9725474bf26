#!/usr/bin/env bash
# Run the test stages in order and close with one line "N passed, N failed".
# Stages: lint yamllint sanity unit contract molecule (all by default; name some to run only those).
# `molecule` alone runs every scenario; `molecule NAME` runs one. Each molecule scenario counts
# as one check, and passes only when molecule succeeded AND its verify step ran tests that passed:
# a scenario that was skipped is counted as failed, never as passed.
set -uo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$PWD/.cache/collections"
export MOLECULE_GLOB="molecule/*/molecule.yml"

logs=.cache/test-logs
mkdir -p "$logs"
passed=0
failed=0
failures=()

record() { # name status
  if [ "$2" -eq 0 ]; then
    passed=$((passed + 1)); echo "PASS  $1"
  else
    failed=$((failed + 1)); failures+=("$1"); echo "FAIL  $1 (log: $logs/$1.log)"
  fi
}

run_stage() { # name command...
  local name=$1; shift
  echo "---- $name: $*"
  "$@" 2>&1 | tee "$logs/$name.log"
  record "$name" "${PIPESTATUS[0]}"
}

release_scratch() { # scenario
  # Swap is kernel-wide: whatever the scenario activated under its scratch directory goes, even when
  # it failed half-way.
  bash tests/support/release-swap.sh "/var/tmp/strix-opencode-test/$1"
  # Tier containers the scenario started on this machine's engine (they share the box's network
  # namespace, which is gone with the box) go too.
  local leftovers
  leftovers=$(docker ps -a --filter label=org.strix-opencode.stack \
    --format '{{.ID}} {{.Label "org.strix-opencode.stack"}}' 2>/dev/null | awk -v s="molecule-$1" \
    '$2 == s || index($2, s "-") == 1 {print $1}')
  [ -z "$leftovers" ] || docker rm -f $leftovers >/dev/null
}

run_scenario() { # name
  local name=$1 log="$logs/molecule-$1.log" rc
  echo "---- molecule-$name"
  molecule test -s "$name" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  release_scratch "$name"
  if [ "$rc" -eq 0 ] && ! grep -Eq '=+ [1-9][0-9]* passed' "$log"; then
    echo "molecule-$name: molecule succeeded but its verify step ran no passing tests" | tee -a "$log"
    rc=1
  fi
  record "molecule-$name" "$rc"
}

stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(lint yamllint sanity unit contract molecule)

i=0
while [ $i -lt ${#stages[@]} ]; do
  stage=${stages[$i]}
  case $stage in
    lint) run_stage ansible-lint ansible-lint --offline --profile production ;;
    yamllint) run_stage yamllint yamllint --strict . ;;
    sanity) run_stage sanity bash tests/support/sanity.sh ;;
    unit) run_stage pytest python -m pytest -q tests --ignore=tests/contract ;;
    # the plan's command lines through the real vLLM (installed under .cache) and llama-server
    contract) run_stage contract python -m pytest -q tests/contract ;;
    molecule)
      next=${stages[$((i + 1))]:-}
      if [ -n "$next" ] && [ -d "molecule/$next" ]; then
        run_scenario "$next"; i=$((i + 1))
      else
        for dir in molecule/*/; do run_scenario "$(basename "$dir")"; done
      fi ;;
    *) echo "unknown stage: $stage" >&2; record "$stage" 1 ;;
  esac
  i=$((i + 1))
done

echo
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

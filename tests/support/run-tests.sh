#!/usr/bin/env bash
# Run the test stages and close with a table of each stage's seconds and one line "N passed, N failed".
# Stages: lint yamllint sanity unit contract molecule (all by default; name some to run only those, in order).
# `molecule` alone runs every scenario; `molecule NAME` runs one. Each molecule scenario counts as one check,
# and passes only when molecule succeeded AND its verify step ran tests that passed: a scenario that was skipped
# is counted as failed, never as passed.
#
# The full run (no arguments) runs two lanes side by side, since most of a scenario's time is spent waiting on
# servers and containers. What touches the machine's kernel-wide state stays in one lane, in order: swap
# (fleet, swap, site) and vm.swappiness (swappiness_host first, read by the doctor.yml runs of fleet and amdgpu:
# amdgpu runs last in the other lane, long after swappiness_host set it).
# STRIX_TEST_LANES=1 runs it all in one lane.
set -uo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$PWD/.cache/collections"
export MOLECULE_GLOB="molecule/*/molecule.yml"

logs=.cache/test-logs
results=$logs/results
mkdir -p "$logs"
rm -rf "$results" && mkdir -p "$results"

# One check: its output to $logs/NAME.log, its exit code and seconds to $results/NAME.
finish() { # name rc start
  local seconds=$(($(date +%s) - $3))
  echo "$2 $seconds" > "$results/$1"
  if [ "$2" -eq 0 ]; then echo "PASS  $1 (${seconds} s)"; else echo "FAIL  $1 (${seconds} s, log: $logs/$1.log)"; fi
}

run_stage() { # name command...
  local name=$1 start rc; shift
  start=$(date +%s)
  echo "---- $name: $*"
  "$@" > "$logs/$name.log" 2>&1
  rc=$?
  [ -n "${STRIX_TEST_QUIET:-}" ] || cat "$logs/$name.log"
  finish "$name" "$rc" "$start"
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
  local name=$1 log="$logs/molecule-$1.log" rc start
  start=$(date +%s)
  echo "---- molecule-$name"
  # and before: swap that a run outside this script left active under the scratch directory (molecule's own
  # destroy does not swap it off) would make the scenario's swapon fail with "Device or resource busy"
  release_scratch "$name" > /dev/null
  # when each task started, in a file of its own (tests/support/task_times.py sums it up; nothing on stdout, which
  # some runs parse), the nested ansible-playbook runs' too; and the collection's gc_freeze, as its ansible.cfg has it
  rm -f "$logs/molecule-$name.times"
  STRIX_TASK_TIMES="$PWD/$logs/molecule-$name.times" ANSIBLE_CALLBACK_PLUGINS="$PWD/tests/support/callback_plugins" \
    ANSIBLE_CALLBACKS_ENABLED=task_times,strix.opencode.gc_freeze molecule test -s "$name" > "$log" 2>&1
  rc=$?
  release_scratch "$name"
  if [ "$rc" -eq 0 ] && ! grep -Eq '=+ [1-9][0-9]* passed' "$log"; then
    echo "molecule-$name: molecule succeeded but its verify step ran no passing tests" >> "$log"
    rc=1
  fi
  [ -n "${STRIX_TEST_QUIET:-}" ] || cat "$log"
  finish "molecule-$name" "$rc" "$start"
}

run_one() { # stage or molecule/NAME
  case $1 in
    lint) run_stage ansible-lint ansible-lint --offline --profile production ;;
    yamllint) run_stage yamllint yamllint --strict . ;;
    sanity) run_stage sanity bash tests/support/sanity.sh ;;
    unit) run_stage pytest python -m pytest -q tests --ignore=tests/contract ;;
    # the plan's command lines through the real vLLM (installed under .cache) and llama-server
    contract) run_stage contract python -m pytest -q tests/contract ;;
    molecule/*) run_scenario "${1#molecule/}" ;;
    *) echo "unknown stage: $1" >&2; echo "1 0" > "$results/$1" ;;
  esac
}

run_lane() { # checks...
  local check
  for check in "$@"; do run_one "$check"; done
}

all_scenarios() { for dir in molecule/*/; do echo "molecule/$(basename "$dir")"; done; }

began=$(date +%s)
if [ $# -eq 0 ]; then
  # The set-up is a stage too: the toolchain, the Docker engine and the images (cached, rebuilt when changed).
  run_stage setup make --no-print-directory collection images
fi
if [ $# -eq 0 ] && [ "$(cut -d' ' -f1 "$results/setup")" -ne 0 ]; then
  echo "setup failed: no test can run"
elif [ $# -eq 0 ] && [ "${STRIX_TEST_LANES:-2}" -ge 2 ]; then
  # Lane B: the long multi-host scenario, and what shares kernel-wide state with it, in order.
  lane_b=(molecule/swappiness_host molecule/fleet molecule/swap molecule/site)
  lane_a=(lint yamllint sanity unit contract)
  for scenario in $(all_scenarios); do
    [[ " ${lane_b[*]} molecule/amdgpu " == *" $scenario "* ]] || lane_a+=("$scenario")
  done
  lane_a+=(molecule/amdgpu)
  export STRIX_TEST_QUIET=1  # two lanes would interleave their output: each check's log is in $logs
  run_lane "${lane_a[@]}" &
  lane_a_pid=$!
  run_lane "${lane_b[@]}"
  wait "$lane_a_pid"
else
  checks=()
  args=("$@")
  [ ${#args[@]} -eq 0 ] && args=(lint yamllint sanity unit contract molecule)
  i=0
  while [ $i -lt ${#args[@]} ]; do
    next=${args[$((i + 1))]:-}
    if [ "${args[$i]}" = molecule ] && [ -n "$next" ] && [ -d "molecule/$next" ]; then
      checks+=("molecule/$next"); i=$((i + 1))
    elif [ "${args[$i]}" = molecule ]; then
      mapfile -t -O "${#checks[@]}" checks < <(all_scenarios)
    else
      checks+=("${args[$i]}")
    fi
    i=$((i + 1))
  done
  run_lane "${checks[@]}"
fi

echo
echo "stage                     result   seconds"
passed=0
failed=0
failures=()
for file in $(ls -tr "$results"); do
  read -r rc seconds < "$results/$file"
  if [ "$rc" -eq 0 ]; then passed=$((passed + 1)); verdict=pass; else failed=$((failed + 1)); failures+=("$file"); verdict=FAIL; fi
  printf '%-25s %-6s %9s\n' "$file" "$verdict" "$seconds"
done
printf '%-25s %-6s %9s\n' "all (wall clock)" "" "$(($(date +%s) - began))"
echo
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

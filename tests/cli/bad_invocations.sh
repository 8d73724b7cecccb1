#!/usr/bin/env bash
# Every executable against a corpus of bad invocations: each must exit 1 (runtime error) or
# 2 (usage error) with exactly one line on stderr that names the problem (the flag, the value or
# the path it was given), and never die by a signal or hang.
#
#   bad_invocations.sh <program> [<program> ...]
#
# The corpus is built from each program's own --help (every flag it lists, with its default and
# range), so a new flag or a new executable is covered without editing this file:
#   - unknown, malformed and repeated flags; --help with a value; a missing value;
#   - for every flag with a value: text that is not a number, overflowing and non-finite numbers,
#     values just outside the declared range, a choice that is not one of the choices;
#   - output folders that cannot be made (under a file, under /dev/null, without permission);
#   - policy files that are not policy files (missing, a directory, /dev/zero, empty, garbage);
#   - list flags with an empty element ("0.5,", ",0.5", "0.5,,0.5"), refused like --hidden's;
#   - standard output that cannot be written (/dev/full): --help of every program, and a short run
#     of every program that prints a report, must exit 1 saying so, never 0.
set -u
scratch=$(mktemp -d)
trap 'chmod -R u+w "$scratch" 2>/dev/null; rm -rf "$scratch"' EXIT
printf 'not a folder' > "$scratch/a_file"
mkdir -p "$scratch/locked" && chmod 500 "$scratch/locked"
: > "$scratch/empty.safetensors"
head -c 4096 /dev/urandom > "$scratch/garbage.safetensors" 2>/dev/null || printf 'garbage' > "$scratch/garbage.safetensors"
printf '\x10\x00\x00\x00\x00\x00\x00\x00{"a":1}' > "$scratch/short.safetensors"

failures=0
cases=0

# run_case <program> <what the message must mention> <args...>; stdout goes to $stdout_to.
stdout_to=/dev/null
run_case() {
  local prog=$1 expect=$2
  shift 2
  local err="$scratch/stderr" status
  # The bound keeps a hang from stalling the suite; a usage or I/O error takes milliseconds.
  timeout -s KILL 30 "$prog" "$@" > "$stdout_to" 2> "$err" < /dev/null
  status=$?
  cases=$((cases + 1))
  local lines problem=""
  lines=$(grep -c '' "$err")
  if [ "$status" -eq 137 ]; then problem="hung (killed after 30 s)"
  elif [ "$status" -gt 128 ]; then problem="died by signal $((status - 128))"
  elif [ "$status" -ne 1 ] && [ "$status" -ne 2 ]; then problem="exit status $status, expected 1 or 2"
  elif [ "$lines" -ne 1 ]; then problem="$lines lines on stderr, expected 1"
  elif [ -n "$expect" ] && ! grep -qF -- "$expect" "$err"; then problem="message does not mention '$expect'"
  fi
  if [ -n "$problem" ]; then
    failures=$((failures + 1))
    printf 'FAIL %s' "$(basename "$prog")"
    printf ' %q' "$@"
    printf ': %s\n  stderr: %s\n' "$problem" "$(head -c 400 "$err" | tr '\n' '|')"
  fi
}

# Values that no numeric flag accepts.
numeric_bad=("abc" "" "1e999" "-1e999" "nan" "inf" "-inf" "0x" "1.5.2" " 5" "5 " "99999999999999999999999"
             "-99999999999999999999999" "1,2" "--")

for prog in "$@"; do
  name=$(basename "$prog")
  help=$("$prog" --help 2>&1) || { echo "FAIL $name --help exits $?"; failures=$((failures + 1)); continue; }
  before=$cases

  run_case "$prog" "--bogus" --bogus
  run_case "$prog" "--bogus" --bogus=1
  run_case "$prog" "-x" -x
  run_case "$prog" "stray" stray
  run_case "$prog" "--help" --help=1
  run_case "$prog" "" --=3
  run_case "$prog" "" ---

  # Flags with a value: "  --flag <value>   help (default: D; RANGE)".
  while IFS= read -r line; do
    flag=$(sed -E 's/^  (--[a-zA-Z0-9-]+) <value>.*/\1/' <<< "$line")
    range=$(sed -nE 's/.*\(default: [^;]*; (.*)\)$/\1/p' <<< "$line")
    default=$(sed -nE 's/.*\(default: ([^;)]*)[;)].*/\1/p' <<< "$line")
    run_case "$prog" "$flag" "$flag"                      # missing value (last argument)
    run_case "$prog" "$flag" "$flag" "$default" "$flag" "$default"  # given twice
    case "$range" in
      \[*|\(*)  # a numeric range [lo, hi] or (lo, hi]
        for v in "${numeric_bad[@]}"; do run_case "$prog" "$flag" "$flag=$v"; done
        lo=$(sed -E 's/^[[(]([^,]*), .*/\1/' <<< "$range")
        hi=$(sed -E 's/.*, ([^])]*)[])]$/\1/' <<< "$range")
        below=$(awk -v x="$lo" 'BEGIN { printf "%.17g", (x < 0 ? x * 10 - 1 : x - 1 - x * 0.5) }')
        above=$(awk -v x="$hi" 'BEGIN { printf "%.17g", (x > 0 ? x * 10 + 1 : x + 1) }')
        [[ "$range" == \(* ]] && below=$lo  # an open lower end excludes lo itself
        run_case "$prog" "$flag" "$flag=$below"
        run_case "$prog" "$flag" "$flag=$above"
        ;;
      *\|*)  # choices a|b|c
        run_case "$prog" "$flag" "$flag" "not-a-choice"
        ;;
      "1 to "*)  # layer sizes
        for v in "" "0" "128," ",128" "128,,128" "5000" "1,2,3,4,5,6,7,8,9" "a,b" "-1"; do
          run_case "$prog" "$flag" "$flag=$v"
        done
        ;;
    esac
    # Any other comma-separated list (gae's --lambdas): an empty element is refused, as for --hidden.
    # Audit bug: "gae --lambdas 0.5," ran (exit 0) while "--hidden 64," was refused.
    if grep -q "comma-separated" <<< "$line" && [[ "$range" != "1 to "* ]]; then
      for v in "0.5," ",0.5" "0.5,,0.5" ","; do run_case "$prog" "invalid value '$v' for $flag" "$flag=$v"; done
    fi
  done < <(grep -E '^  --[a-zA-Z0-9-]+ <value>' <<< "$help")

  # Switches: no value, not twice.
  while IFS= read -r flag; do
    run_case "$prog" "$flag" "$flag=1"
    run_case "$prog" "$flag" "$flag="
    run_case "$prog" "$flag" "$flag" "$flag"
  done < <(grep -E '^  --[a-zA-Z0-9-]+ {2,}' <<< "$help" | grep -vE '^  --help ' | sed -E 's/^  (--[a-zA-Z0-9-]+).*/\1/')
  run_case "$prog" "--bogus" --bogus --help
  run_case "$prog" "'--'" -- --bogus

  # Output folders that cannot be made. (RL demos read --out "" as the default folder.)
  if grep -qE '^  --out <value>' <<< "$help"; then
    run_case "$prog" "$scratch/a_file" --out "$scratch/a_file/sub"
    run_case "$prog" "/dev/null" --out /dev/null/sub
    if [ "$(id -u)" -ne 0 ]; then run_case "$prog" "$scratch/locked" --out "$scratch/locked/sub"; fi
    run_case "$prog" "/proc" --out /proc/pgcpp_cannot_write_here
    grep -qE '^  --load <value>' <<< "$help" || run_case "$prog" "--out" --out ""
  fi

  # Files that are not policy files.
  if grep -qE '^  --load <value>' <<< "$help"; then
    for f in "$scratch/missing.safetensors" "$scratch" /dev/zero /dev/null "$scratch/empty.safetensors" \
             "$scratch/garbage.safetensors" "$scratch/short.safetensors"; do
      run_case "$prog" "$f" --load "$f"
    done
  fi
  # Policy files whose declared network is far larger than their tensors.
  if grep -qE '^  --load <value>' <<< "$help"; then
    # Audit bug: a header declaring 4-65536-65536-65536-65536-2 and no tensors ended in std::bad_alloc.
    huge="$scratch/huge.safetensors"
    header='{"__metadata__":{"algorithm":"x","architecture":"categorical 4-65536-65536-65536-65536-2 tanh","checksum":"fnv1a64:cbf29ce484222325","env":"CartPole-v1","pgcpp_policy_version":"1","scalar":"double","seed":"1"}}'
    header="$header$(printf '%*s' $(( (8 - ${#header} % 8) % 8 )) '')"
    printf "$(printf '\\x%02x' $(( ${#header} & 255 )) $(( ${#header} >> 8 )) 0 0 0 0 0 0)" > "$huge"
    printf '%s' "$header" >> "$huge"
    run_case "$prog" "$huge" --load "$huge"
  fi
  # ---- compare (tools/compare.cpp): run folders that are not runs ------------------------------
  if grep -q '^usage: compare ' <<< "$help"; then
    c="$scratch/compare_runs"
    # A good single-seed Pendulum run, and the same on CartPole-v1.
    mkdir -p "$c/good" "$c/cartpole"
    printf 'env_steps,episode,return,length\n200,1,-1200,200\n400,2,-1100,200\n' > "$c/good/metrics.csv"
    printf '{"algorithm": "sac", "env": "Pendulum-v1", "seed": 1, "scalar": "double", "hyperparameters": {"alpha": 0.2}}\n' \
      > "$c/good/summary.json"
    printf 'env_steps,episode,return,length\n20,1,20,20\n' > "$c/cartpole/metrics.csv"
    sed 's/Pendulum-v1/CartPole-v1/' "$c/good/summary.json" > "$c/cartpole/summary.json"
    # seed1/ folders, each a copy of the good run but for what the folder's name says.
    for bad in empty_folder garbage_metrics garbage_summary fifo_metrics zero_metrics fifo_summary nested_summary \
               no_summary huge_seed seed_mismatch no_rows nan_return steps_decrease bigseed; do
      mkdir -p "$c/$bad/seed1" && cp "$c/good/metrics.csv" "$c/good/summary.json" "$c/$bad/seed1/"
    done
    rm "$c/empty_folder/seed1/metrics.csv" "$c/empty_folder/seed1/summary.json"
    head -c 3000 /dev/urandom > "$c/garbage_metrics/seed1/metrics.csv"
    head -c 3000 /dev/urandom > "$c/garbage_summary/seed1/summary.json"
    rm "$c/fifo_metrics/seed1/metrics.csv" "$c/zero_metrics/seed1/metrics.csv" "$c/fifo_summary/seed1/summary.json"
    mkfifo "$c/fifo_metrics/seed1/metrics.csv" "$c/fifo_summary/seed1/summary.json"
    ln -s /dev/zero "$c/zero_metrics/seed1/metrics.csv"
    printf '%s' "$(printf '[%.0s' $(seq 100000))" > "$c/nested_summary/seed1/summary.json"
    rm "$c/no_summary/seed1/summary.json"
    sed -i 's/"seed": 1/"seed": 99999999999999999999999/' "$c/huge_seed/seed1/summary.json"
    sed -i 's/"seed": 1/"seed": 2/' "$c/seed_mismatch/seed1/summary.json"
    printf 'env_steps,episode,return,length\n' > "$c/no_rows/seed1/metrics.csv"
    printf 'env_steps,episode,return,length\n200,1,nan,200\n' > "$c/nan_return/seed1/metrics.csv"
    printf 'env_steps,episode,return,length\n400,1,-1,200\n200,2,-1,200\n' > "$c/steps_decrease/seed1/metrics.csv"
    mv "$c/bigseed/seed1" "$c/bigseed/seed99999999999999999999999"
    mkdir -p "$c/new"$'\n'"line"
    o=(--out "$scratch/compare_out")
    run_case "$prog" "$c/missing" "${o[@]}" "$c/missing"
    run_case "$prog" "$c/empty_folder" "${o[@]}" "$c/empty_folder"
    run_case "$prog" "$c/garbage_metrics/seed1/metrics.csv" "${o[@]}" "$c/garbage_metrics"
    run_case "$prog" "$c/garbage_summary/seed1/summary.json" "${o[@]}" "$c/garbage_summary"
    # Audit bug (offpolicy_compare): a metrics.csv that is a FIFO blocked the open forever.
    run_case "$prog" "$c/fifo_metrics/seed1/metrics.csv" "${o[@]}" "$c/fifo_metrics"
    run_case "$prog" "$c/fifo_summary/seed1/summary.json" "${o[@]}" "$c/fifo_summary"
    # Audit bug (offpolicy_compare): a metrics.csv linked to /dev/zero was read until memory ran out.
    run_case "$prog" "$c/zero_metrics/seed1/metrics.csv" "${o[@]}" "$c/zero_metrics"
    # 100,000 '[': a recursive reader without a depth bound overflows its stack.
    run_case "$prog" "$c/nested_summary/seed1/summary.json" "${o[@]}" "$c/nested_summary"
    run_case "$prog" "$c/no_summary/seed1/summary.json" "${o[@]}" "$c/no_summary"
    run_case "$prog" "$c/huge_seed/seed1/summary.json" "${o[@]}" "$c/huge_seed"
    run_case "$prog" "$c/seed_mismatch/seed1/summary.json" "${o[@]}" "$c/seed_mismatch"
    run_case "$prog" "$c/no_rows/seed1/metrics.csv" "${o[@]}" "$c/no_rows"
    run_case "$prog" "$c/nan_return/seed1/metrics.csv" "${o[@]}" "$c/nan_return"
    run_case "$prog" "$c/steps_decrease/seed1/metrics.csv" "${o[@]}" "$c/steps_decrease"
    # Audit bug (offpolicy_compare): a seed<k> folder whose k overflows said only "stol", naming no folder.
    run_case "$prog" "seed99999999999999999999999" "${o[@]}" "$c/bigseed"
    # Audit bug (offpolicy_compare): a folder name with a newline split the one-line error in two.
    run_case "$prog" "new\nline" "${o[@]}" "$c/new"$'\n'"line"
    # Runs of different environments on one figure.
    run_case "$prog" "one environment" "${o[@]}" "$c/good" "$c/cartpole"
    # The same seed twice in one group; one label over two algorithms; an empty label.
    run_case "$prog" "$c/good" "${o[@]}" "$c/good" "$c/good"
    sed 's/"sac"/"ddpg"/' "$c/good/summary.json" > "$c/cartpole/summary.json"
    run_case "$prog" "label 'x'" "${o[@]}" "x=$c/good" "x=$c/cartpole"
    run_case "$prog" "=$c/good" "${o[@]}" "=$c/good"
    # No run; --out a run folder (its outputs would be replaced); a reference that is not a number;
    # --x cpu_seconds on runs without timing.csv (the CPU time of each episode).
    run_case "$prog" "RUN" "${o[@]}"
    run_case "$prog" "--out" --out "$c/good" "$c/good"
    run_case "$prog" "--reference" --reference abc "$c/good"
    run_case "$prog" "timing.csv" --x cpu_seconds "${o[@]}" "$c/good"
    # --y: a column metrics.csv does not log; a logged column empty on every row (no update ran).
    run_case "$prog" "no 'kl' column" --y kl "${o[@]}" "$c/good"
    mkdir -p "$c/no_update" && cp "$c/good/summary.json" "$c/no_update/"
    printf 'env_steps,episode,return,length,kl\n200,1,-1200,200,\n' > "$c/no_update/metrics.csv"
    run_case "$prog" "column kl is empty on every row" --y kl "${o[@]}" "$c/no_update"
  fi
  # ---- end of compare ----------------------------------------------------------------------------
  if grep -qE '^  --actions-file <value>' <<< "$help"; then
    for f in "$scratch/missing" "$scratch" /dev/zero "$scratch/garbage.safetensors"; do
      run_case "$prog" "$f" --env cartpole --state 0,0,0,0 --actions-file "$f"
    done
    # Its list flags refuse an empty element like every list flag.
    for v in "0,0,0," ",0,0,0" "0,,0,0"; do run_case "$prog" "--state" --env cartpole --state "$v" --actions 1; done
    for v in "1," ",1" "1,,0"; do run_case "$prog" "--actions" --env cartpole --state 0,0,0,0 --actions "$v"; done
  fi
  # Standard output that cannot be written. Audit bug: "bench --help >/dev/full" exited 0.
  if [ -w /dev/full ]; then
    stdout_to=/dev/full
    run_case "$prog" "standard output" --help
    stdout_to=/dev/null
  fi
  n=$((cases - before))
  echo "$name: $n bad invocations"
  if [ "$n" -lt 30 ]; then echo "FAIL $name: only $n cases (want >= 30)"; failures=$((failures + 1)); fi
done

# ---- bench --peers (issue 19): --rows names only the peers' rows; --rows and --seed only with --peers ----
for prog in "$@"; do
  if [ "$(basename "$prog")" = bench ]; then
    run_case "$prog" "bogus" --peers --rows sac64,bogus
    run_case "$prog" "--rows" --peers --rows ""
    run_case "$prog" "--rows" --peers --rows SAC64
    for v in "ppo," ",ppo" "ppo,,sac64"; do run_case "$prog" "invalid value '$v' for --rows" --peers --rows "$v"; done
    run_case "$prog" "--peers" --rows ppo
    run_case "$prog" "--peers" --seed 3
  fi
done
# ---- end of bench --peers -------------------------------------------------------------------------

# ---- the ablation switches of issue 21 (claims 7, 8, 10): only where they mean something --------
for prog in "$@"; do
  case "$(basename "$prog")" in
    ddpg|sac_discrete|ppo) for f in --single-critic --no-tanh-correction --ensemble-mean; do run_case "$prog" "$f" "$f"; done ;;
    sac) run_case "$prog" "--ensemble-mean" --ensemble-mean
         run_case "$prog" "--single-critic" --single-critic=yes
         run_case "$prog" "--no-tanh-correction" --no-tanh-correction --no-tanh-correction ;;
    mbpo) run_case "$prog" "--ensemble-mean" --ensemble-mean=1
          run_case "$prog" "--member-per" --member-per member ;;
  esac
done
# ---- end of the ablation switches -----------------------------------------------------------------

# A short run of each program that prints a report, into /dev/full: exit 1, not 0 (audit bug:
# bench, gd_sgd and the reports exited 0). Each is found among the programs given by its name.
if [ -w /dev/full ]; then
  stdout_to=/dev/full
  for prog in "$@"; do
    case "$(basename "$prog")" in
      bench) run_case "$prog" "standard output" --block-seconds 0.001 --sac-width 8 ;;
      gd_sgd) run_case "$prog" "standard output" --steps 10 --sgd-steps 10 --runs 2 --out "$scratch/gd_sgd" ;;
      pg_lemma) run_case "$prog" "standard output" --out "$scratch/pg_lemma" ;;
      ppo_clip_objective) run_case "$prog" "standard output" --out "$scratch/ppo_clip_objective" ;;
      env_replay) run_case "$prog" "standard output" --env cartpole --state 0,0,0,0 --actions 1,0 ;;
    esac
  done
  stdout_to=/dev/null
fi

echo "$cases bad invocations, $failures failures"
[ "$failures" -eq 0 ]

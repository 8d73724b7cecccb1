#!/usr/bin/env bash
# Valid settings at the edge of their range run to the end: exit 0, a metrics.csv with no NaN. Each
# case once stopped training with a spurious "... is nan": a "not computed yet" placeholder (the
# variance of one trajectory, an actor loss before the first delayed actor step, a model loss
# with no model-training iterations) reached the non-finite-loss guard.
# gd_sgd's smallest step sizes draw their figures (audit bug: --alpha 1e-300 made (3.9)'s bound
# ~1e300 and stopped with "log_ticks: need finite 0 < lo < hi", naming no flag). 1e-30 is in
# --alpha's range in both builds (below float's smallest normal number it is a usage error).
#   edge_invocations.sh REINFORCE_BASELINE DDPG MBPO GD_SGD
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
run() {  # name, command...
  local name=$1
  shift
  "$@" --quiet --out "$work/$name" > "$work/$name.log" 2>&1
  local rc=$?
  if [ $rc -ne 0 ]; then
    echo "FAIL $name: exit $rc ($(head -c 300 "$work/$name.log"))"
    status=1
  elif grep -qi nan "$work/$name/metrics.csv"; then
    echo "FAIL $name: NaN in metrics.csv"
    status=1
  else
    echo "ok   $name"
  fi
}
run reinforce_baseline_batch1 "$1" --batch 1 --episodes 6
run ddpg_actor_every "$2" --steps 1400 --actor-every 1000 --hidden 32,32
run mbpo_no_model_steps "$3" --steps 1400 --model-steps 0 --hidden 32,32
for alpha in 1e-30 1e-12; do
  if "$4" --alpha "$alpha" --steps 10 --sgd-steps 10 --runs 2 --quiet --out "$work/gd_sgd" > "$work/gd_sgd.log" 2>&1 &&
     [ -s "$work/gd_sgd/sgd_bounds.svg" ]; then
    echo "ok   gd_sgd_alpha_$alpha"
  else
    echo "FAIL gd_sgd_alpha_$alpha: ($(head -c 300 "$work/gd_sgd.log"))"
    status=1
  fi
done
exit $status

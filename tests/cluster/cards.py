"""A reduced gallery for the cluster test (gallery.py --cards tests/cluster/cards.py): two short
jobs of 2 seeds each, the second submitted after the first (after=), each with one card."""
from gallery_cards import Card, Check, Job

JOBS = [
    Job("short_reinforce", "reinforce", ["--quiet", "--episodes", "30", "--solved", "0"], seeds=2, est=1, mem_mb=200),
    Job("short_ppo", "ppo", ["--quiet", "--env-steps", "4000"], seeds=2, est=1, window=20, mem_mb=200,
        after=["short_reinforce"]),
]


def ran_budget(episodes):
    def fn(run):
        got = [len(s.returns) for s in run.seeds]
        return bool(got) and all(n == episodes for n in got), f"episodes per seed: {got}"
    return Check(f"every seed ran its {episodes} episodes", fn)


def ran_some(run):
    got = [len(s.returns) for s in run.seeds]
    return len(got) == 2 and all(n > 0 for n in got), f"episodes per seed: {got}"


CARDS = [
    Card("short-reinforce", "Minibatch REINFORCE, 30 episodes (cluster test)", "3.2.3", job="short_reinforce",
         ours=["curve.svg", "{seed}/rollout.svg"], check=ran_budget(30)),
    Card("short-ppo", "PPO-Clip, 4000 env steps (cluster test)", "3.4.7", job="short_ppo", ours=["curve.svg"],
         check=Check("both seeds finished episodes", ran_some)),
]

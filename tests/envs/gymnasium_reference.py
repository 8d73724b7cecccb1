#!/usr/bin/env python3
"""Reference transitions for env_replay, in env_replay's CSV format.

    gymnasium_reference.py --env cartpole|pendulum --state x1,x2,... --actions a1,a2,...

Uses Gymnasium itself when it is installed (sets env.unwrapped.state, calls step on the
unwrapped env). Without Gymnasium, it restates Gymnasium's step with the same Python/numpy
scalar types (numpy float64 state, math.cos/sin in CartPole, np.sin in Pendulum, x**2 through
pow), which is what decides the rounding. Compare with:

    diff <(env_replay --env E --state S --actions A) <(gymnasium_reference.py --env E ...)

The time limit (TimeLimit wrapper) is not applied here: columns terminated/truncated follow the
unwrapped env, so keep trajectories shorter than the limit.
"""
import argparse
import math

import numpy as np

try:
    import gymnasium
except ImportError:
    gymnasium = None


def cartpole_step(state, action):
    x, x_dot, theta, theta_dot = state
    force = 10.0 if action == 1 else -10.0
    total_mass = 0.1 + 1.0
    polemass_length = 0.1 * 0.5
    costheta = math.cos(theta)
    sintheta = math.sin(theta)
    temp = (force + polemass_length * theta_dot**2 * sintheta) / total_mass
    thetaacc = (9.8 * sintheta - costheta * temp) / (
        0.5 * (4.0 / 3.0 - 0.1 * costheta**2 / total_mass))
    xacc = temp - polemass_length * thetaacc * costheta / total_mass
    x = x + 0.02 * x_dot
    x_dot = x_dot + 0.02 * xacc
    theta = theta + 0.02 * theta_dot
    theta_dot = theta_dot + 0.02 * thetaacc
    thr = 12 * 2 * math.pi / 360
    terminated = bool(x < -2.4 or x > 2.4 or theta < -thr or theta > thr)
    new = np.array([x, x_dot, theta, theta_dot])
    return new, new, 1.0, terminated


def pendulum_step(state, u):
    th, thdot = state
    g, m, l, dt = 10.0, 1.0, 1.0, 0.05
    u = np.clip(np.array([u], dtype=np.float64), -2.0, 2.0)[0]
    norm = ((th + np.pi) % (2 * np.pi)) - np.pi
    costs = norm**2 + 0.1 * thdot**2 + 0.001 * (u**2)
    newthdot = thdot + (3 * g / (2 * l) * np.sin(th) + 3.0 / (m * l**2) * u) * dt
    newthdot = np.clip(newthdot, -8, 8)
    newth = th + newthdot * dt
    new = np.array([newth, newthdot])
    return new, np.array([np.cos(newth), np.sin(newth), newthdot]), -costs, False


def run_restated(env, state, actions):
    step = cartpole_step if env == "cartpole" else pendulum_step
    s = np.array(state, dtype=np.float64)
    for a in actions:
        s, obs, reward, terminated = step(s, a)
        yield s, obs, reward, terminated


def run_gymnasium(env, state, actions):
    e = gymnasium.make("CartPole-v1" if env == "cartpole" else "Pendulum-v1").unwrapped
    e.reset(seed=0)
    e.state = np.array(state, dtype=np.float64)
    for a in actions:
        act = int(a) if env == "cartpole" else np.array([a], dtype=np.float64)
        _, reward, terminated, _, _ = e.step(act)
        s = np.array(e.state, dtype=np.float64)
        if env == "cartpole":
            obs = s
        else:
            obs = np.array([np.cos(s[0]), np.sin(s[0]), s[1]])  # float64, not float32
        yield s, obs, reward, terminated


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--env", required=True, choices=["cartpole", "pendulum"])
    p.add_argument("--state", required=True)
    p.add_argument("--actions", required=True)
    a = p.parse_args()
    state = [float(v) for v in a.state.split(",")]
    actions = [float(v) for v in a.actions.split(",")]
    if a.env == "cartpole":
        header = "x,x_dot,theta,theta_dot,obs_x,obs_x_dot,obs_theta,obs_theta_dot"
    else:
        header = "th,thdot,obs_cos_th,obs_sin_th,obs_thdot"
    print("step," + header + ",reward,terminated,truncated")
    run = run_gymnasium if gymnasium is not None else run_restated
    for t, (s, obs, reward, terminated) in enumerate(run(a.env, state, actions), start=1):
        nums = [*s, *obs, reward]
        print(f"{t}," + ",".join("%.17g" % float(v) for v in nums) + f",{int(terminated)},0")


if __name__ == "__main__":
    main()

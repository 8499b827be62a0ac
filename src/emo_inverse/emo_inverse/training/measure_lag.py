"""The robot's lag measured offline, on a head's simulated chain, and saved with a self-model.

    python -m emo_inverse.training.measure_lag --model inverse.pt [--head my_head.yaml] [--steps 60]
    python -m emo_inverse.training.measure_lag --model inverse.pt --babbling recorded.npz   # babble_node's

Babbling steps (alternating the upper-face and mouth sessions) through the
simulated chain (emo_sim.chain), fitted by emo_inverse.robot_lag.fit_lag.
"""
import argparse

import numpy as np

from emo_inverse.robot_lag import fit_lag, robot_face_regions, write_lag


def step_plan(head, n: int, seed: int = 0) -> np.ndarray:
    """n babbling commands, alternating the upper-face and mouth sessions (each a step from the last)."""
    from emo_inverse.training.babbling import sample_commands
    rng = np.random.default_rng(seed)
    upper = sample_commands(head, 'upper', (n + 1) // 2, rng)
    lower = sample_commands(head, 'lower', n // 2, rng)
    plan = [None] * n
    plan[0::2], plan[1::2] = list(upper), list(lower)
    return np.array(plan)


def measure_offline(head, steps: int = 60, seed: int = 0, plant: str = 'real') -> dict:
    """The lag of a head's simulated chain (babbling steps, as `python -m emo_inverse.training.babbling` does)."""
    from emo_sim.chain import simulate_steps
    from emo_sim.simulated_head import SimulatedHead
    twin = SimulatedHead(head, seed=seed)
    lag = fit_lag(simulate_steps(head, twin, step_plan(head, steps, seed), plant), robot_face_regions(),
                  source=f'offline babbling steps on the simulated {head.name} head (plant {plant})')
    lag['dynamics'] = head.dynamics.summary(head.names) if plant == 'real' else 'ideal'
    return lag


def main(argv=None) -> int:
    import json

    from emo_description.head import load_head
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--model', required=True, help='self-model checkpoint to save the lag with')
    parser.add_argument('--head', default=None, help='head description YAML (default: Emo)')
    parser.add_argument('--babbling', default=None, help='a babbling dataset recorded by babble_node: use its '
                                                         'measured lag instead of simulating')
    parser.add_argument('--steps', type=int, default=60)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    if args.babbling:
        from emo_inverse.training.babbling import load
        lag = load(args.babbling).get('robot_lag')
        if lag is None:
            parser.error(f'{args.babbling} has no measured lag')
    else:
        lag = measure_offline(load_head(args.head), args.steps, args.seed)
    write_lag(args.model, lag)
    print(json.dumps({k: v for k, v in lag.items() if k != 'dynamics'}, indent=1))
    print(f"saved with {args.model}: lag {lag['lag_s']:.3f} s")
    return 0


if __name__ == '__main__':
    raise SystemExit(main())

"""The make demo chain offline: faces to command -> the robot's face over time, without ROS.

    chain = RobotChain()                                  # the shipped self-model, the Emo head, plant real
    t, robot_faces = chain.run(arrivals, person_faces, shown_faces)

Per observed frame (arriving at the stack at `arrivals[i]`): the inverse node's arithmetic (the person's
rest face, the paper's normalization, the shipped self-model), the driver's HeadController (50 Hz and on
every command, as write_on_command does), the servos' firmware profile under load and the skin's lag
(the same functions as the simulated plant of make demo, plant real), and the simulated head's face,
sampled at each control cycle as the robot-face node samples the joint states. bench/demo_bound.py and
emo_bringup.onset_timing replay through it.
"""
import numpy as np


class RobotChain:
    """The demo's robot side: inverse arithmetic, HeadController, firmware profile, skin, simulated head."""

    def __init__(self, rate_hz: float = 50.0, seed: int = 0):
        from emo_inverse import default_path
        from emo_inverse import babbling_file
        from emo_inverse.model import NumpyInverse, load_checkpoint
        from emo_inverse.normalization import Normalizer, RestFaceEstimator
        from emo_sim.simulated_head import SimulatedHead, SkinLag
        from emo_servo_driver.controller import HeadController
        from emo_description.head import load_head
        self.head = head = load_head()
        model, _ = load_checkpoint(default_path('inverse_default.pt'))
        self.inverse = NumpyInverse(model)
        self.normalizer = Normalizer.from_babbling(babbling_file.load(default_path('babble_default.npz')))
        self.twin, self.seed = SimulatedHead(head, seed=seed), seed
        d = head.dynamics
        self.v_max, self.a_max = np.minimum(head.max_velocity, d.load_speed), d.max_acceleration
        # A run starts from the calm head with a fresh rest face, skin and controller, and the head's landmark
        # noise from its seed: a run's result does not depend on the runs before it.
        self.new_rest = RestFaceEstimator
        self.new_skin = lambda: SkinLag(d.skin_order, d.skin_time_constant_s)
        self.new_controller = lambda: HeadController(head, watchdog_s=0.5)
        self.period = 1.0 / rate_hz

    def run(self, arrivals, person, shown, rest=None, tail_s: float = 1.5):
        """arrivals: when each frame reaches the stack; person: its face (the inverse node's rest face is
        estimated from them, unless `rest`, the person's rest face, is given); shown: the face to command
        for it (None: nothing). Returns (t, robot faces) over the frames and `tail_s` after."""
        from emo_sim.dxl_sim import profile_motion
        head, ctl, skin, estimator = self.head, self.new_controller(), self.new_skin(), self.new_rest()
        self.twin.rng = np.random.default_rng(self.seed)
        pos, vel = head.calm.astype(np.float64).copy(), np.zeros(len(head.servos))
        goals = ctl.start(pos)
        ticks = np.arange(arrivals[0], arrivals[-1] + tail_s, self.period)
        events = sorted([(t, 1, None) for t in ticks] + [(t, 0, i) for i, t in enumerate(arrivals)])
        now, out_t, out_f = events[0][0], [], []
        for t, _, i in events:
            for s in range(len(pos)):
                pos[s], vel[s] = profile_motion(pos[s], vel[s], goals[s], self.v_max[s], self.a_max[s], t - now)
            now = t
            if i is not None:
                if rest is None and np.isfinite(person[i]).all():
                    estimator.update(person[i], t)
                person_rest = estimator.rest if rest is None else rest
                if shown[i] is not None and person_rest is not None and np.isfinite(shown[i]).all():
                    robot_face = self.normalizer(shown[i], person_rest)
                    ctl.command(np.clip(self.inverse.predict(robot_face), 0.0, 1.0), t)
            goals = ctl.step(t)
            if i is None:                            # the robot face node samples the joint states
                out_t.append(t)
                out_f.append(self.twin.face(skin.update(t, pos)))
        return np.array(out_t), np.array(out_f)

"""The simulated chain offline: commands through the driver's controller, the servos' firmware
profile and the skin, to the simulated head's face, without ROS or a bus.

    steps = simulate_steps(head, SimulatedHead(head), plan)     # [(t, faces, face before), ...] per command
    lag = emo_inverse.robot_lag.fit_lag(steps, robot_face_regions())
"""
import math

import numpy as np

SETTLED_S = 0.2        # as emo_inverse.robot_lag: the settled face is the median over the last 0.2 s


def simulate_steps(head, twin, plan, plant: str = 'real', rate_hz: float = 50.0, record_s: float = 1.5):
    """Step responses of the simulated chain: each command of `plan` sent at a driver cycle, through the
    driver's controller (emo_servo_driver.controller.HeadController: the face's step within every servo's
    limits), the servos' firmware profile and speed under load (emo_sim.dxl_sim.profile_motion)
    and the skin's lag (SkinLag), the face sampled at every cycle as the joint states are. plant 'ideal':
    the ideal simulated chain (constant speed, no skin lag)."""
    from emo_servo_driver.controller import HeadController
    from emo_sim.dxl_sim import profile_motion
    from emo_sim.simulated_head import SkinLag
    d = head.dynamics
    if plant == 'real':
        v_max, a_max = np.minimum(head.max_velocity, d.load_speed), d.max_acceleration
        skin = SkinLag(d.skin_order, d.skin_time_constant_s)
    elif plant == 'ideal':
        v_max, a_max, skin = head.max_velocity * 1.2, np.full(len(head.servos), math.inf), SkinLag(0, 0.0)
    else:
        raise ValueError(f"plant must be real or ideal, got {plant!r}")
    ctl = HeadController(head, watchdog_s=math.inf, gaze=False)
    period = 1.0 / rate_hz
    pos, vel = head.calm.astype(np.float64).copy(), np.zeros(len(head.servos))
    now = 0.0
    ctl.start(pos)
    ctl.step(now)
    before = twin.face(skin.update(now, pos))
    steps = []
    for c in plan:
        ctl.command(c, now)
        times, faces = [], []
        for k in range(int(round(record_s * rate_hz))):
            goals = ctl.step(now + period)
            for i in range(len(pos)):
                pos[i], vel[i] = profile_motion(pos[i], vel[i], goals[i], v_max[i], a_max[i], period)
            now += period
            times.append((k + 1) * period)
            faces.append(twin.face(skin.update(now, pos)))
        steps.append((np.array(times), np.array(faces), before))
        before = np.median(np.array(faces)[np.array(times) >= times[-1] - SETTLED_S], axis=0)
    return steps



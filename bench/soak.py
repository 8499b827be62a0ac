"""Soak: the whole coexpression graph for a long run with bus faults and hostile messages.

    SOAK_S=120 make soak            # (default 600 s) prints the figures, writes results/soak.json

The graph is the demo graph (camera: demo at 30 fps, each node in its own
process) with the driver on `bus: dynamixel`, its port a stable link to a
simulated servo chain that this process runs, as if it were hardware on a USB
adapter. Faults on that bus: dropped (2 %) and corrupted (1 %) replies
throughout, one servo silent for the middle third of the run, and the adapter
pulled out and plugged back in every 30 s (the driver has to reopen it).
Hostile messages, 5 a second each: MotorCommands (NaN, inf, 1e30, stale, future
and negative stamps, and valid but random extreme faces), FaceLandmarks (odd
lengths, NaN, 1e30, empty, negative stamps), AnticipatedFace (the same).

Checked on every goal set the simulated servos received:
  range_violations        a goal outside its servo's [min, max]
  constraint_violations   a goal set that is not the face of commands within the head's constraints
                          (emo_servo_driver.pose_check, a MILP; each distinct goal set once)
  hold_violations         a servo left at an end of its range longer than extreme_hold.max_seconds + 1 s
                          (times of arrival)
  speed_violations        faster than max_velocity
  acceleration_violations speeding up faster than max_acceleration, or too fast to brake before a range end
The last two are timed by the driver's own stamps: each received goal set is matched (in order, by value)
to the one the driver published on ~/goal_positions; goals are whole ticks (+-1 tick per step allowed) and
stamps are the controller's own step times (to 10 us); a step from or to a goal set without a stamp is not timed (counted).
Also: exceptions (Python tracebacks in any node's log), nodes_lost (processes gone at the end),
rss_growth_pct (the graph's resident memory, end vs. the end of the first minute; per node in details).
"""
import argparse
import json
import os
import pathlib
import sys
import tempfile
import time

import numpy as np

from emo_common.provenance import git_commit

HERE = pathlib.Path(__file__).resolve().parent
REPLUG_EVERY_S = 30.0
TIMING_S = 1e-5            # stamp rounding allowed in the speed and acceleration checks
HOLD_SLACK_S = 1.0         # time to leave an end once the hold limit is reached


def rss_kib(pid: int) -> int:
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# --- hostile messages ---------------------------------------------------------------------------
def hostile_messages(node, rng):
    """Publishers and a function that sends one round of hostile messages."""
    from emo_msgs.msg import AnticipatedFace, FaceLandmarks, MotorCommands, Topics
    from std_msgs.msg import Header
    pubs = {'commands': node.create_publisher(MotorCommands, Topics.MOTOR_COMMANDS, 10),
            'faces': node.create_publisher(FaceLandmarks, Topics.FACE_LANDMARKS, 10),
            'anticipated': node.create_publisher(AnticipatedFace, Topics.FACE_ANTICIPATED, 10)}
    junk = [float('nan'), float('inf'), -float('inf'), 1e30, -1e30, 3.4e38]

    def header():
        h = Header()
        now = node.get_clock().now().nanoseconds
        kind = rng.integers(5)
        ns = {0: now, 1: now - int(5e9), 2: now + int(5e9), 3: 0, 4: now}[int(kind)]
        h.stamp.sec, h.stamp.nanosec = ns // 1_000_000_000, ns % 1_000_000_000
        if kind == 4:
            h.stamp.sec = -int(rng.integers(1, 1000))
        return h

    def points(n):
        kind = rng.integers(5)
        if kind == 0:
            return [float(x) for x in rng.normal(0, 1, n)]
        if kind == 1:
            return [float(rng.choice(junk)) for _ in range(n)]
        if kind == 2:
            return [float(x) for x in rng.normal(0, 1e30, n)]
        if kind == 3:
            return [float(x) for x in rng.random(n + 1)]          # odd length
        return []

    def send():
        c = rng.random(11) if rng.random() < 0.5 else np.array([float(rng.choice(junk)) for _ in range(11)])
        pubs['commands'].publish(MotorCommands(header=header(), commands=[float(x) for x in c]))
        pubs['faces'].publish(FaceLandmarks(header=header(), face_detected=bool(rng.random() < 0.8),
                                            image_width=int(rng.choice([0, 640, 2 ** 31])),
                                            image_height=int(rng.choice([0, 480])),
                                            image_xy=points(226), face_xy=points(226)))
        pubs['anticipated'].publish(AnticipatedFace(header=header(), mode=str(rng.choice(['anticipate', 'junk'])),
                                                    face_xy=points(226), target_xy=points(226),
                                                    confidence=float(rng.choice([0.5, float('nan'), 1e30]))))
    return pubs, send


# --- the run ------------------------------------------------------------------------------------
def run(seconds: float, logs: str) -> dict:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import JointState

    from emo_bringup.demo import wait_for_graph
    from emo_bringup.runner import RunningGraph
    from emo_description.head import load_head
    from emo_sim.dxl_sim import Faults, SimulatedServoChain

    head = load_head()
    sim = SimulatedServoChain(head.servos, faults=Faults(drop_rate=0.02, corrupt_rate=0.01, seed=7),
                              dynamics=head.dynamics, link=os.path.join(logs, 'ttyDXL')).start()
    sim.goal_log = []
    silent_id = head.servos[head.index['lip_side_r']].id
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('soak', context=context)
    ex = SingleThreadedExecutor(context=context)
    ex.add_node(node)
    published = []
    node.create_subscription(JointState, '/driver_node/goal_positions',
                             lambda m: published.append((m.header.stamp.sec + m.header.stamp.nanosec * 1e-9,
                                                         head.radians_to_ticks(m.position))),
                             QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE))
    from diagnostic_msgs.msg import DiagnosticArray
    driver_diag = {}

    def on_diag(msg):
        for st in msg.status:
            if st.name.endswith(': servo driver'):
                driver_diag.update({v.key: v.value for v in st.values}, message=st.message)
    node.create_subscription(DiagnosticArray, '/diagnostics', on_diag, 50)
    rng = np.random.default_rng(11)
    _, send_hostile = hostile_messages(node, rng)
    events = []
    graph = RunningGraph('coexpress', {'camera': 'demo', 'loop': 'true', 'bus': 'dynamixel', 'port': sim.port}, logs)
    for spec in graph.specs:
        if spec.executable == 'driver_node':
            spec.overrides['latency_timer_ms'] = 8      # the simulated chain answers from another Python process
    rss_first = rss_end = {}
    try:
        graph.start(skip=['eye_camera_left'])
        if not wait_for_graph(node, ex):
            raise RuntimeError('graph did not come up')
        graph.start(only=['eye_camera_left'])
        pids = {n: p.pid for n, p in graph.procs.items()}
        t0 = time.monotonic()
        next_hostile, next_replug, silent = t0, t0 + REPLUG_EVERY_S, False
        while (now := time.monotonic()) < t0 + seconds:
            ex.spin_once(timeout_sec=0.02)
            if now >= next_hostile:
                send_hostile()
                next_hostile += 0.2
            if now >= next_replug:
                sim.unplug()
                time.sleep(0.2)
                sim.start()
                events.append(('replug', round(now - t0, 1)))
                next_replug += REPLUG_EVERY_S
            third = (now - t0) / seconds
            if not silent and 1 / 3 <= third < 2 / 3:
                sim.faults.silent_ids.add(silent_id)
                silent = True
                events.append(('silent', round(now - t0, 1)))
            elif silent and third >= 2 / 3:
                sim.faults.silent_ids.discard(silent_id)
                silent = False
                events.append(('answers again', round(now - t0, 1)))
            if not rss_first and now - t0 >= min(60.0, seconds / 2):
                rss_first = {n: rss_kib(p) for n, p in pids.items()}
        rss_end = {n: rss_kib(p) for n, p in pids.items()}
        alive = graph.alive()
    finally:
        graph.stop()
        sim.stop()
    ex.shutdown()
    node.destroy_node()
    context.try_shutdown()
    tracebacks, traceback_text = {}, {}
    for log in pathlib.Path(logs).glob('*.log'):
        text = log.read_text(errors='replace')
        n = text.count('Traceback (most recent call last)')
        if n:
            tracebacks[log.stem] = n
            first = text.index('Traceback (most recent call last)')
            traceback_text[log.stem] = text[first:first + 4000]    # the first one, for the report
    received = [(t, np.array([goals.get(s.id, np.nan) for s in head.servos], dtype=np.float64))
                for t, goals in sim.goal_log]
    return {'head': head, 'received': received, 'published': published, 'alive': alive, 'events': events,
            'tracebacks': tracebacks, 'traceback_text': traceback_text,
            'rss_first_kib': rss_first, 'rss_end_kib': rss_end,
            'bad_packets': sim.bad_packets, 'packets': sim.packets, 'driver_diagnostics': driver_diag}


# --- the checks ---------------------------------------------------------------------------------
def check_received(head, received) -> dict:
    from emo_servo_driver.pose_check import valid_face
    t = np.array([r[0] for r in received])
    g = np.array([r[1] for r in received])
    out = {'range_violations': int(((g < head.min) | (g > head.max)).sum())}
    distinct, seen = 0, set()
    bad = 0
    for goals in g:
        key = goals[head.facial].tobytes()
        if key in seen:
            continue
        seen.add(key)
        distinct += 1
        bad += valid_face(head, goals) is None
    out['constraint_violations'] = int(bad)
    out['distinct_faces_checked'] = distinct
    hold = head.extreme_hold
    span = head.max - head.min
    low, high = head.min + hold['margin'] * span, head.max - hold['margin'] * span
    calm_low, calm_high = head.calm <= low, head.calm >= high
    at_end = ((g <= low) & ~calm_low) | ((g >= high) & ~calm_high)
    longest = np.zeros(len(head.servos))
    since = np.full(len(head.servos), np.nan)
    violations = 0
    for k in range(len(t)):
        since = np.where(at_end[k], np.where(np.isnan(since), t[k], since), np.nan)
        held = np.where(np.isnan(since), 0.0, t[k] - since)
        over = held > hold['max_seconds'] + HOLD_SLACK_S
        violations += int(over.sum())
        longest = np.maximum(longest, held)
    out['hold_violations'] = violations
    out['longest_hold_s'] = round(float(longest.max()), 3)
    return out


def stamp_received(received, published, window: int = 8):
    """Each goal set the servos received, with the driver's stamp of the same goal set (matched in order by
    value: the published goals rounded to ticks equal the received ones), or NaN where none matched (a goal
    set written but not published, e.g. on a reconnect, or a published one lost)."""
    pub = [np.round(p[1]) for p in published]
    stamps = np.full(len(received), np.nan)
    j = 0
    for k, (_, goals) in enumerate(received):
        for m in range(j, min(j + window, len(pub))):
            if np.array_equal(pub[m], goals):
                stamps[k], j = published[m][0], m + 1
                break
    return stamps


def check_motion(head, received, published) -> dict:
    """Speed and acceleration of the goal stream the servos received (complete: every sync write that reached
    them, in order), timed by the driver's stamps. Goals are whole ticks, so a step is known to +-1 tick;
    a pair of writes is checked only when both carry a stamp."""
    stamps = stamp_received(received, published)
    g = np.array([r[1] for r in received])
    a, vmax = head.dynamics.max_acceleration, head.max_velocity
    speed = accel = checked = 0
    examples = []
    velocity, prev_dt = np.zeros(len(head.servos)), None
    for k in range(1, len(g)):
        d = g[k] - g[k - 1]
        dt = stamps[k] - stamps[k - 1]
        if not np.isfinite(dt):
            velocity, prev_dt = np.zeros(len(head.servos)), None     # unknown timing: start afresh
            continue
        checked += 1
        dt = min(dt, 0.2)
        slack = max(dt, 0.0) + TIMING_S
        fast = np.abs(d) - 1 > vmax * slack
        # Speeding up: from the speed in this direction before (0 after a reversal), whose own +-1 tick
        # step error is 1 / prev_dt in speed.
        going = np.where(np.sign(d) == np.sign(velocity), np.abs(velocity), 0.0)
        if prev_dt:
            going = going + 1.0 / prev_dt
        else:
            going = np.full(len(d), np.inf)                           # no speed known before this step
        speed_up = np.abs(d) - 1 > (going + a * slack) * slack
        room = np.where(d > 0, head.max - g[k], g[k] - head.min) + 0.5
        brake = np.abs(d) - 1 > np.sqrt(2 * a * np.maximum(room, 0)) * slack
        speed += int(fast.sum())
        accel += int((speed_up | brake).sum())
        for i in np.flatnonzero(fast | speed_up | brake)[:2]:
            if len(examples) < 10:
                examples.append({'write': k, 'servo': head.names[i], 'step_ticks': float(d[i]),
                                 'dt_s': round(float(dt), 5), 'speed_before': round(float(velocity[i]), 1),
                                 'kind': 'speed' if fast[i] else ('speed-up' if speed_up[i] else 'brake')})
        velocity = d / dt if dt > 0 else velocity
        prev_dt = dt if dt > 0 else prev_dt
    return {'speed_violations': speed, 'acceleration_violations': accel, 'steps_checked': checked,
            'steps_untimed': int(len(g) - 1 - checked), 'goal_sets_published': len(published),
            'examples': examples}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--seconds', type=float, default=float(os.environ.get('SOAK_S', 600)))
    parser.add_argument('--out', default=str(HERE.parent / 'results' / 'soak.json'))
    parser.add_argument('--raw', help='also save the goal streams (received, published) to this .npz')
    args = parser.parse_args(argv)
    started = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
    with tempfile.TemporaryDirectory() as logs:
        r = run(args.seconds, logs)
    head = r['head']
    if args.raw:
        np.savez_compressed(args.raw, received_t=[x[0] for x in r['received']],
                            received=[x[1] for x in r['received']], published_t=[x[0] for x in r['published']],
                            published=[x[1] for x in r['published']])
    received = check_received(head, r['received'])
    published = check_motion(head, r['received'], r['published'])
    first, end = r['rss_first_kib'], r['rss_end_kib']
    per_node = {n: round(100.0 * (end.get(n, 0) - first[n]) / first[n], 2) for n in first if first[n]}
    total_first, total_end = sum(first.values()), sum(end.values())
    result = {
        'commit': git_commit(short=True, where=HERE), 'started_utc': started, 'protocol': 'bench/soak.py (see its docstring)',
        'duration_s': args.seconds, 'goal_sets_written': len(r['received']),
        'range_violations': received['range_violations'],
        'speed_violations': published['speed_violations'],
        'acceleration_violations': published['acceleration_violations'],
        'constraint_violations': received['constraint_violations'],
        'hold_violations': received['hold_violations'],
        'exceptions': int(sum(r['tracebacks'].values())),
        'nodes_lost': int(sum(not a for a in r['alive'].values())),
        'rss_growth_pct': round(100.0 * (total_end - total_first) / max(total_first, 1), 2),
        'details': {'goal_sets_published': published['goal_sets_published'],
                    'steps_timed': published['steps_checked'], 'steps_untimed': published['steps_untimed'],
                    'motion_violation_examples': published['examples'],
                    'distinct_faces_checked': received['distinct_faces_checked'],
                    'longest_hold_s': received['longest_hold_s'],
                    'rss_growth_pct_per_node': per_node, 'rss_first_minute_kib': first, 'rss_end_kib': end,
                    'tracebacks_per_node': r['tracebacks'], 'first_traceback': r['traceback_text'],
                    'nodes_alive': r['alive'], 'bus_events': r['events'],
                    'bus_packets': r['packets'], 'bus_bad_packets': r['bad_packets'],
                    'driver_diagnostics_last': r['driver_diagnostics'],
                    'timing_slack_s': TIMING_S, 'hold_slack_s': HOLD_SLACK_S},
    }
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + '\n')
    print(json.dumps({k: v for k, v in result.items() if k != 'details'}, indent=2))
    print(f'wrote {out}')
    bad = [k for k in ('range_violations', 'speed_violations', 'acceleration_violations', 'constraint_violations',
                       'hold_violations', 'exceptions', 'nodes_lost') if result[k]]
    if bad or result['rss_growth_pct'] >= 5.0:
        print(f'SOAK FAILED: {", ".join(bad) or "rss_growth_pct"}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

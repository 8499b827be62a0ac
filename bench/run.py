"""Run every benchmark of the stack and write bench/results.json.

Each benchmark is a script that prints one JSON object on its last stdout line:
{"figures": [{"name", "value", "unit", "goal", "better"}...], "details": {...}}.
Benchmarks are measurements, never pass/fail tests.

    python bench/run.py                 # all
    python bench/run.py dds_latency     # some
"""
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
# Later issues add their benchmarks here, in graph order.
BENCHMARKS = ['dds_latency', 'landmarks', 'predictor', 'inverse', 'servo', 'e2e']


def machine() -> dict:
    cpu = platform.processor()
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    return {'cpu': cpu, 'cores': os.cpu_count(), 'python': platform.python_version(),
            'platform': platform.platform(), 'ros_distro': os.environ.get('ROS_DISTRO', 'kilted (PyPI wheels)'),
            'rmw': os.environ.get('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp'),
            'date': time.strftime('%Y-%m-%dT%H:%M:%S%z')}


def meets(fig: dict) -> str:
    if fig.get('goal') is None:
        return ''
    ok = fig['value'] >= fig['goal'] if fig['better'] == 'higher' else fig['value'] <= fig['goal']
    return 'yes' if ok else 'NO'


def main(names) -> int:
    from emo_common.provenance import git_commit
    results = {'commit': git_commit(short=True, where=HERE), 'machine': machine(), 'figures': [], 'details': {}}
    failed = []
    for name in names or BENCHMARKS:
        print(f'== {name}', file=sys.stderr)
        proc = subprocess.run([sys.executable, str(HERE / f'{name}.py')], stdout=subprocess.PIPE, text=True)
        lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
        if proc.returncode != 0 or not lines:
            failed.append(name)
            continue
        out = json.loads(lines[-1])
        results['figures'] += out['figures']
        results['details'][name] = out.get('details', {})
    (HERE / 'results.json').write_text(json.dumps(results, indent=1) + '\n')
    print(f"\n{'figure':34s} {'value':>10s} {'unit':6s} {'goal':>8s} {'meets':>5s}")
    for fig in results['figures']:
        goal = '' if fig.get('goal') is None else f"{'>=' if fig['better'] == 'higher' else '<='}{fig['goal']}"
        print(f"{fig['name']:34s} {fig['value']:>10.3f} {fig['unit']:6s} {goal:>8s} {meets(fig):>5s}")
    print(f"\ncommit {results['commit']}; machine: {results['machine']['cpu']}, {results['machine']['cores']} cores; "
          f"wrote {HERE / 'results.json'}")
    if failed:
        print(f'benchmarks that failed: {failed}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

"""Every import of a package's code is declared in its package.xml (rosdep keys), or is one of the
pip-only needs the README's install steps give (no apt package on Ubuntu 24.04), pinned in
requirements/requirements.in. And, when a fetched copy of ros/rosdistro is at ROSDISTRO_GIT (a bare
git directory, e.g. from `fetch github:ros/rosdistro`), every rosdep key resolves on Jazzy and Kilted."""
import ast
import os
import pathlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = sorted(p.parent for p in (ROOT / 'src').glob('*/package.xml'))
WORKSPACE = {p.name for p in PACKAGES}
# Python module -> rosdep key.
KEYS = {'numpy': 'python3-numpy', 'yaml': 'python3-yaml', 'scipy': 'python3-scipy', 'cv2': 'python3-opencv',
        'skimage': 'python3-skimage', 'tqdm': 'python3-tqdm', 'matplotlib': 'python3-matplotlib',
        'serial': 'python3-serial', 'dynamixel_sdk': 'dynamixel_sdk', 'rclpy': 'rclpy',
        'ament_index_python': 'ament_index_python', 'launch': 'launch', 'launch_ros': 'launch_ros',
        'hypothesis': 'python3-hypothesis', 'pytest': 'python3-pytest', 'tf2_ros': 'tf2_ros'}
# pip only (the README's install steps, requirements/requirements.in): no apt package on Ubuntu 24.04.
PIP_ONLY = {'torch': 'torch', 'mediapipe': 'mediapipe', 'rosbags': 'rosbags', 'mcap': 'mcap'}
# Optional speed-ups or fallbacks imported inside try/except (never needed).
OPTIONAL = {'lz4', 'compression', 'backports', 'zstandard'}


def imports(package: pathlib.Path) -> dict:
    """Top-level modules imported by the package's code (not its tests) -> a file that imports it."""
    found = {}
    for path in list((package / package.name).rglob('*.py')) + list((package / 'launch').glob('*.py')):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.split('.')[0], path.relative_to(ROOT))
    return found


def declared(package: pathlib.Path) -> set:
    root = ET.parse(package / 'package.xml').getroot()
    return {e.text.strip() for e in root if e.tag.endswith('depend') and e.text}


def is_ros_message_package(name: str) -> bool:
    return name.endswith(('_msgs', '_srvs', '_interfaces')) or name == 'builtin_interfaces'


@pytest.mark.parametrize('package', PACKAGES, ids=lambda p: p.name)
def test_every_import_is_declared(package):
    deps = declared(package)
    requirements = (ROOT / 'requirements' / 'requirements.in').read_text().lower()
    missing = []
    for module, where in sorted(imports(package).items()):
        if module in sys.stdlib_module_names or module == package.name or module in OPTIONAL:
            continue
        if module == 'coexpress_launch_common':              # emo_bringup's launch helper, beside the launch files
            continue
        if module in PIP_ONLY:
            if not re.search(rf'^{PIP_ONLY[module]}\b', requirements, re.M):
                missing.append(f'{module} (pip only: not in requirements.in) in {where}')
            continue
        key = module if module in WORKSPACE or is_ros_message_package(module) else KEYS.get(module)
        if key is None:
            missing.append(f'{module}: no rosdep key known for it (add it to KEYS) in {where}')
        elif key not in deps:
            missing.append(f'{module} -> <depend>{key}</depend> missing, imported in {where}')
    assert not missing, '\n'.join(missing)


def _rosdistro_file(git_dir: str, path: str) -> str:
    return subprocess.run(['git', '--git-dir', git_dir, 'show', f'HEAD:{path}'], check=True, capture_output=True,
                          text=True).stdout


@pytest.mark.parametrize('distro', ['jazzy', 'kilted'])
def test_every_rosdep_key_resolves_on_ubuntu_noble(distro):
    """Jazzy and Kilted both target Ubuntu 24.04 (noble): each key is a ROS package of the distro or a
    rosdep rule with an apt package for noble (not null)."""
    git_dir = os.environ.get('ROSDISTRO_GIT', '/work/.mirror/ros+rosdistro/repo')
    if not os.path.isdir(git_dir):
        pytest.skip('no fetched ros/rosdistro (set ROSDISTRO_GIT to a bare clone)')
    yaml = pytest.importorskip('yaml')
    rules = {}
    for name in ('base.yaml', 'python.yaml'):
        rules.update(yaml.safe_load(_rosdistro_file(git_dir, f'rosdep/{name}')))
    dist = yaml.safe_load(_rosdistro_file(git_dir, f'{distro}/distribution.yaml'))
    ros_packages = set()
    for name, repo in dist['repositories'].items():
        release = repo.get('release')
        if release:                          # a released repository: its packages, or itself alone
            ros_packages.update(release.get('packages') or [name])
    unresolved = []
    for package in PACKAGES:
        root = ET.parse(package / 'package.xml').getroot()
        for e in root:
            if not e.tag.endswith('depend') or not e.text:
                continue
            condition = e.get('condition', '')
            if condition and f'$ROS_DISTRO == {distro}' not in condition and '!=' not in condition:
                continue
            key = e.text.strip()
            if key in WORKSPACE or key in ros_packages:
                continue
            ubuntu = (rules.get(key) or {}).get('ubuntu')
            if isinstance(ubuntu, dict):
                ubuntu = ubuntu.get('noble', ubuntu.get('*'))
            if not ubuntu:
                unresolved.append(f'{package.name}: {key}')
    assert not unresolved, f'unresolved on {distro} (ubuntu noble): ' + ', '.join(unresolved)

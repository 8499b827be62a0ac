"""Runtime apart from offline tools and simulators: no runtime node imports training or simulation code.

Runtime nodes are the executables of the runtime packages (their setup.py entry points outside a
`training` subpackage). Their imports are followed through the workspace's modules, every import
counted, at module level or inside a function: none may reach a `training` subpackage or emo_sim.
"""
import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
RUNTIME_PACKAGES = ('emo_common', 'emo_description', 'emo_perception', 'emo_prediction', 'emo_inverse',
                    'emo_servo_driver')
SIMULATION_PACKAGES = ('emo_sim',)


def workspace_modules() -> dict:
    """Dotted module name -> file, for every package's Python code under src/."""
    modules = {}
    for setup in ROOT.glob('src/*/setup.py'):
        package = setup.parent.name
        for path in (setup.parent / package).rglob('*.py'):
            parts = path.relative_to(setup.parent).with_suffix('').parts
            name = '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)
            modules[name] = path
    return modules


def imported(path: pathlib.Path, modules: dict) -> set:
    """The workspace modules a file imports (anywhere in it): `from a.b import c` is a.b.c when that is
    a module, else a.b; a package's __init__ counts too."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f'{node.module}.{a.name}' if f'{node.module}.{a.name}' in modules else node.module
                     for a in node.names]
        for name in names:
            parts = name.split('.')
            for i in range(1, len(parts) + 1):           # importing a.b.c runs a/__init__ and a/b/__init__
                if '.'.join(parts[:i]) in modules:
                    out.add('.'.join(parts[:i]))
    return out


def closure(start: str, modules: dict) -> dict:
    """Every workspace module reached from `start`, with the module that imports it (for the message)."""
    seen, todo = {start: None}, [start]
    while todo:
        name = todo.pop()
        for dep in imported(modules[name], modules):
            if dep not in seen:
                seen[dep] = name
                todo.append(dep)
    return seen


def runtime_nodes(modules: dict) -> list:
    nodes = []
    for package in RUNTIME_PACKAGES:
        setup = ROOT / 'src' / package / 'setup.py'
        for module in re.findall(r"'\w+ = ([\w.]+):main'", setup.read_text()):
            if not is_offline(module):
                nodes.append(module)
    return nodes


def is_offline(module: str) -> bool:
    return '.training' in f'.{module}' or module.split('.')[0] in SIMULATION_PACKAGES


MODULES = workspace_modules()
NODES = runtime_nodes(MODULES)


def path_to(seen: dict, module: str) -> str:
    chain = [module]
    while seen[chain[-1]] is not None:
        chain.append(seen[chain[-1]])
    return ' <- '.join(chain)


def test_the_runtime_nodes_are_found():
    assert {'emo_perception.eye_camera_node', 'emo_perception.landmark_node', 'emo_prediction.predictor_node',
            'emo_inverse.inverse_node', 'emo_servo_driver.driver_node'} <= set(NODES)


@pytest.mark.parametrize('node', NODES)
def test_a_runtime_node_never_imports_training_or_simulation_code(node):
    seen = closure(node, MODULES)
    offline = [path_to(seen, m) for m in seen if is_offline(m)]
    assert not offline, '\n'.join(offline)


def test_the_runtime_modules_of_a_runtime_package_import_no_training_or_simulation_code():
    bad = []
    for name, path in MODULES.items():
        if name.split('.')[0] in RUNTIME_PACKAGES and not is_offline(name):
            bad += [f'{name} imports {dep}' for dep in imported(path, MODULES) if is_offline(dep)]
    assert not bad, '\n'.join(bad)


def test_the_offline_tools_and_simulators_sit_apart():
    """What moved stays moved: the training tools in `training` subpackages, the simulators in emo_sim."""
    where = {'synthetic': 'emo_prediction.training', 'train': 'emo_prediction.training',
             'babbling': 'emo_inverse.training', 'babble_node': 'emo_inverse.training',
             'dxl_sim': 'emo_sim', 'simulated_head': 'emo_sim', 'robot_face_node': 'emo_sim', 'demo_video': 'emo_sim'}
    for leaf, parent in where.items():
        found = sorted(m for m in MODULES if m.split('.')[-1] == leaf)
        assert f'{parent}.{leaf}' in found, (leaf, found)
        assert all(is_offline(m) for m in found), (leaf, found)


def test_the_import_walk_sees_imports_inside_functions(tmp_path):
    """The check can fail: a function-level import of a simulator is found, and so is one through a
    module in between."""
    a, b = tmp_path / 'a.py', tmp_path / 'b.py'
    a.write_text('def f():\n    from b import g\n')
    b.write_text('import numpy\n\n\ndef g():\n    from emo_sim.simulated_head import SimulatedHead\n')
    modules = dict(MODULES, a=a, b=b)
    seen = closure('a', modules)
    assert 'emo_sim.simulated_head' in seen and path_to(seen, 'emo_sim.simulated_head').endswith('<- b <- a')
    # and the real tree has such edges where they belong (training -> simulator)
    assert 'emo_sim.simulated_head' in closure('emo_inverse.training.babbling', MODULES)

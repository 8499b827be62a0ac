"""The README stays short and every document it or the docs link to exists (issue 16)."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md')), *sorted(ROOT.glob('src/*/README.md'))]


def test_the_readme_is_at_most_8_kb():
    assert (ROOT / 'README.md').stat().st_size <= 8192


def test_every_relative_link_resolves():
    broken = []
    for doc in DOCS:
        for target in re.findall(r'\]\(([^)#\s]+)(?:#[^)]*)?\)', doc.read_text()):
            if '://' in target or target.startswith('mailto:'):
                continue
            if not (doc.parent / target).exists():
                broken.append(f'{doc.relative_to(ROOT)} -> {target}')
    assert not broken, broken


def test_every_package_has_a_readme_linked_from_the_readme():
    readme = (ROOT / 'README.md').read_text()
    for package in sorted(p.parent for p in ROOT.glob('src/*/package.xml')):
        assert (package / 'README.md').is_file(), package.name
        assert f'src/{package.name}' in readme, package.name


def node_modules() -> list:
    """(package, module file) of every node executable (console scripts named *_node)."""
    out = []
    for setup in sorted(ROOT.glob('src/*/setup.py')):
        for module in re.findall(r"'\w+_node = ([\w.]+):main'", setup.read_text()):
            out.append((setup.parent.name, setup.parent.joinpath(*module.split('.')).with_suffix('.py')))
    return out


def declared_parameters(path: pathlib.Path) -> list:
    """Parameter names a node module declares: declare_parameter('x', ...), Param('x', ...), declare('x', ...)."""
    import ast
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            fn = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, 'id', '')
            if fn in ('declare_parameter', 'Param', 'declare'):
                names.append(node.args[0].value)
    return names


def used_topics(path: pathlib.Path) -> list:
    """The Topics constants a node module publishes or subscribes to (create_publisher(T, Topics.X, ...))."""
    import ast
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                'create_publisher', 'create_subscription', 'create_lifecycle_publisher') and len(node.args) > 1:
            arg = node.args[1]
            if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id == 'Topics':
                names.append(arg.attr)
    return names


def table_rows(readme: pathlib.Path) -> list:
    return [line.split('|')[1] for line in readme.read_text().splitlines() if line.startswith('|') and line.count('|') > 2]


NODES = node_modules()


def test_the_nodes_are_found():
    names = {path.stem for _, path in NODES}
    assert {'eye_camera_node', 'landmark_node', 'predictor_node', 'inverse_node', 'driver_node',
            'simulated_bus_node', 'robot_face_node', 'babble_node'} <= names, names


def test_every_node_parameter_is_in_its_package_readme():
    missing = []
    for package, path in NODES:
        names = declared_parameters(path)
        assert names, path                       # the extraction sees every node's parameters
        rows = table_rows(ROOT / 'src' / package / 'README.md')
        missing += [f'{package}: {path.stem} {n}' for n in names if not any(f'`{n}`' in r for r in rows)]
    assert not missing, missing


def test_every_node_topic_is_in_its_package_readme():
    from emo_msgs.msg import Topics
    missing = []
    for package, path in NODES:
        rows = table_rows(ROOT / 'src' / package / 'README.md')
        for name in used_topics(path):
            topic = getattr(Topics, name)
            topic = topic if topic.startswith('/') else '/' + topic
            if not any(f'`{topic}`' in r or f'`{topic}` ' in r for r in rows):
                missing.append(f'{package}: {path.stem} {topic}')
    assert not missing, missing

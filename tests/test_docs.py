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

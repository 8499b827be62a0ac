"""Point the ROS 2 wheels' CMake exports at this virtual environment.

The ros-* wheels on PyPI were built in a manylinux image whose Python lives in
/opt/python/cp311-cp311; their generated CMake files still name its include
and numpy directories, so building interfaces (rosidl) against the wheels
fails until those paths name this interpreter's. Idempotent.
"""
import pathlib
import sys
import sysconfig

import numpy

BUILD_PYTHON = '/opt/python/cp311-cp311'


def main() -> int:
    prefix = pathlib.Path(sys.prefix)
    replacements = [
        (f'{BUILD_PYTHON}/lib/python3.11/site-packages/numpy/_core/include', numpy.get_include()),
        (f'{BUILD_PYTHON}/include/python3.11', sysconfig.get_paths()['include']),
        # parent_prefix_path markers: the install prefix the wheels were built for.
        (BUILD_PYTHON, str(prefix)),
    ]
    changed = 0
    for path in list((prefix / 'share').rglob('*.cmake')) + list(
            (prefix / 'share' / 'ament_index' / 'resource_index' / 'parent_prefix_path').glob('*')):
        if not path.is_file():
            continue
        text = path.read_text()
        if BUILD_PYTHON not in text:
            continue
        for old, new in replacements:
            text = text.replace(old, new)
        path.write_text(text)
        changed += 1
    print(f'fix_ros_wheels: rewrote {changed} files under {prefix / "share"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

import glob
import os

from setuptools import find_packages, setup

package_name = 'emo_servo_driver'


def share_files(folder):
    """(install dir, files) pairs for every file under `folder`, kept in their sub-folders."""
    pairs = {}
    for path in glob.glob(os.path.join(folder, '**', '*'), recursive=True):
        if os.path.isfile(path):
            pairs.setdefault(os.path.join('share', package_name, os.path.dirname(path)), []).append(path)
    return sorted(pairs.items())


setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
    ] + share_files('config') + share_files('launch') + share_files('rviz'),
    install_requires=['setuptools'],
    extras_require={'test': ['pytest']},           # colcon test runs the tests with pytest
    zip_safe=True,
    maintainer='Emo coexpression developers',
    maintainer_email='emo-dev@example.org',
    description=open('package.xml').read().split('<description>')[1].split('</description>')[0],
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'driver_node = emo_servo_driver.driver_node:main',
        ],
    },
)

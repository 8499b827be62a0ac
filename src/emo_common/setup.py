from setuptools import find_packages, setup

package_name = 'emo_common'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    package_data={package_name: ['data/*']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
    ],
    install_requires=['setuptools'],
    extras_require={'test': ['pytest']},           # colcon test runs the tests with pytest
    zip_safe=True,
    maintainer='Emo coexpression developers',
    maintainer_email='emo-dev@example.org',
    description=open('package.xml').read().split('<description>')[1].split('</description>')[0],
    license='Apache-2.0',
)

"""Print or write the URDF of a head description (the YAML is the source; this file is generated).

    python -m emo_description.urdf                       # the built-in Emo head, to stdout
    python -m emo_description.urdf --head my_head.yaml --out my_head.urdf
    ros2 run emo_description urdf --head my_head.yaml    # the same, installed

The launch files pass the URDF text to robot_state_publisher as `robot_description`.
"""
import argparse
import sys

from emo_description.head import load_head
from emo_description.kinematics import head_urdf


def robot_description(head_config: str = '') -> str:
    """The URDF of the head YAML at head_config (empty: the built-in Emo head)."""
    return head_urdf(load_head(head_config or None))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--head', default='', help='head description YAML (default: the built-in Emo head)')
    parser.add_argument('--out', default='', help='file to write (default: stdout)')
    args = parser.parse_args(argv)
    xml = robot_description(args.head)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(xml)
    else:
        sys.stdout.write(xml)
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""Print the installable distributions of this environment as name==version, sorted.

pip freeze also lists the egg-info metadata that the ROS 2 wheels carry for
the Python packages inside them (rclpy, action_msgs, ...); those are not on
any index, so only .dist-info distributions (real wheels) are kept.
"""
import importlib.metadata as md
import re

SKIP = {'pip', 'wheel'}
pins = {}
for dist in md.distributions():
    path = str(getattr(dist, '_path', ''))
    name = dist.metadata['Name']
    if not path.endswith('.dist-info') or name.lower() in SKIP:
        continue
    # torch's local build tag (+cpu) is not part of the pin: the machine's wheel folder serves it.
    pins[name.lower()] = f"{name}=={re.sub(r'[+]cpu$', '', dist.version)}"
print('\n'.join(pins[k] for k in sorted(pins)))

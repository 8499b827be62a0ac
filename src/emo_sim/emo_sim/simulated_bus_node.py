"""Simulated bus node: a head's servos as a simulated Dynamixel chain on a serial port, for the driver.

    ros2 run emo_sim simulated_bus_node --ros-args -p port:=/tmp/ttyDXL
    ros2 run emo_servo_driver driver_node --ros-args -p port:=/tmp/ttyDXL -p latency_timer_ms:=8

One simulated X-series servo per servo of the head (emo_sim.dxl_sim) answers
Protocol 2.0 on a pseudo-terminal; `port` is a link to it, made when the chain
is up and removed when the node ends, so the driver opens it as it opens a USB
adapter and runs the same code as on hardware. `plant` real moves the servos by
the head's dynamics (speed under load, the profile the driver writes); ideal at
a constant speed without an acceleration limit. The bringup starts it for
bus:=sim. `/diagnostics` counts the packets it served and the malformed ones.
"""
import os

from diagnostic_msgs.msg import DiagnosticStatus
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node

from emo_common.diagnostics import OK, Updater, key_values
from emo_common.node import spin_node
from emo_sim.dxl_sim import SimulatedServoChain

PLANTS = ('real', 'ideal')


class SimulatedBusNode(Node):
    def __init__(self, **kwargs):
        super().__init__('simulated_bus', **kwargs)
        read_only = {'read_only': True}
        self.declare_parameter('head_config', '', ParameterDescriptor(description='head YAML; empty = Emo', **read_only))
        self.declare_parameter('port', '', ParameterDescriptor(
            description='the path the driver opens: a link to the chain\'s pty (its folder is made)', **read_only))
        self.declare_parameter('plant', 'real', ParameterDescriptor(
            description="real: the head's dynamics (speed under load, profile); ideal: constant speed", **read_only))
        self.declare_parameter('speed_scale', 1.0, ParameterDescriptor(
            description="the servos' speed relative to the plant's", **read_only))
        from emo_description.head import load_head
        from emo_servo_driver.control_table import CONTROL_TABLES
        head = load_head(self.get_parameter('head_config').value or None, set(CONTROL_TABLES))
        plant = self.get_parameter('plant').value
        if plant not in PLANTS:
            raise ValueError(f'parameter plant must be one of {PLANTS}, got {plant!r}')
        speed_scale = float(self.get_parameter('speed_scale').value)
        if not speed_scale > 0:
            raise ValueError(f'parameter speed_scale must be positive, got {speed_scale}')
        link = self.get_parameter('port').value or None
        if link:
            os.makedirs(os.path.dirname(os.path.abspath(link)), exist_ok=True)
        self.chain = SimulatedServoChain(head.servos, speed_scale, dynamics=head.dynamics if plant == 'real' else None,
                                         link=link).start()
        self.get_logger().info(f'{len(head.servos)} simulated servos of {head.name} (plant {plant}) on {self.chain.port}')
        self.plant = plant
        self.updater = Updater(self)
        self.updater.add(self.diagnostic_status)

    def diagnostic_status(self) -> DiagnosticStatus:
        st = DiagnosticStatus(name=f'{self.get_name()}: simulated Dynamixel chain', hardware_id=self.chain.port or '',
                              level=OK, message=f'{len(self.chain.order)} servos on {self.chain.port}')
        st.values = key_values({'plant': self.plant, 'packets': self.chain.packets,
                                'malformed_packets': self.chain.bad_packets})
        return st

    def destroy_node(self):
        self.chain.stop()
        if self.chain.link and os.path.islink(self.chain.link):
            os.remove(self.chain.link)             # no driver opens a pty that is gone
        return super().destroy_node()


def main(args=None) -> None:
    spin_node(SimulatedBusNode, args)


if __name__ == '__main__':
    main()

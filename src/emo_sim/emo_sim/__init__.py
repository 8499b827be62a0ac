"""Simulators that stand in for the hardware and the person: the simulated Dynamixel chain, the
simulated head and its robot-face node, and the demo camera's clip. No runtime node imports them."""

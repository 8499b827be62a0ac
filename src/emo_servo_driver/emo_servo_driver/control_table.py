"""Dynamixel X-series control tables (Protocol 2.0), as data: name -> (address, size in bytes).

Only the entries the stack uses. Source: ROBOTIS e-Manual, XM430-W350 and
XM540-W270 (the two share the X-series layout; they differ in model number).
"""
X_SERIES = {
    'model_number': (0, 2),
    'id': (7, 1),
    'baud_rate': (8, 1),
    'return_delay_time': (9, 1),
    'operating_mode': (11, 1),
    'torque_enable': (64, 1),
    'led': (65, 1),
    'hardware_error_status': (70, 1),
    'profile_acceleration': (108, 4),
    'profile_velocity': (112, 4),
    'goal_position': (116, 4),
    'moving': (122, 1),
    'present_velocity': (128, 4),
    'present_position': (132, 4),
    'present_input_voltage': (144, 2),
    'present_temperature': (146, 1),
}
MODEL_NUMBERS = {'XM430-W350': 1020, 'XM540-W270': 1120}
CONTROL_TABLES = {model: X_SERIES for model in MODEL_NUMBERS}
# Hardware error status bits (address 70).
HARDWARE_ERRORS = {0: 'input voltage', 2: 'overheating', 3: 'motor encoder', 4: 'electrical shock', 5: 'overload'}
# Position units: 4096 ticks per turn.
TICKS_PER_REV = 4096
# Profile units (velocity-based profile): Profile Velocity 0.229 rev/min, Profile Acceleration
# 214.577 rev/min^2; 0 in either means unlimited (the firmware's default).
PROFILE_VELOCITY_TICKS_S = 0.229 * TICKS_PER_REV / 60.0            # 15.63 ticks/s per unit
PROFILE_ACCELERATION_TICKS_S2 = 214.577 * TICKS_PER_REV / 3600.0   # 244.14 ticks/s^2 per unit
# Present input voltage unit: 0.1 V.
VOLTAGE_UNIT = 0.1


def decode_hardware_error(status: int) -> list:
    """The names of the hardware error bits set in a status byte."""
    return [name for bit, name in HARDWARE_ERRORS.items() if status & (1 << bit)]

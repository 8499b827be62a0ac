"""The predictor's horizon defaults to the robot's lag measured by babbling and saved with the
self-model: two simulated heads of different speed, over real rclpy and Fast DDS."""
import shutil

import pytest

rclpy = pytest.importorskip('rclpy')
torch = pytest.importorskip('torch')
from rcl_interfaces.srv import GetParameters  # noqa: E402

from emo_inverse import robot_lag  # noqa: E402
from emo_inverse.training import measure_lag  # noqa: E402
from emo_description.head import load_head  # noqa: E402
from emo_common.testing import NodeProcess, spin_until  # noqa: E402
from emo_common.testing import faster_head_yaml  # noqa: E402

pytestmark = pytest.mark.ros


def lag_parameters(ros_node, tmp_path, params: dict):
    """(robot_lag_s, robot_lag_source) of a predictor_node started with params, read like `ros2 param get`."""
    node, executor = ros_node
    cli = node.create_client(GetParameters, '/predictor_node/get_parameters')
    try:
        with NodeProcess('emo_prediction', 'predictor_node', {'mode': 'mimic', **params}, tmp_path) as proc:
            assert spin_until(executor, cli.service_is_ready, 60.0), proc.log()[-2000:]
            future = cli.call_async(GetParameters.Request(names=['robot_lag_s', 'robot_lag_source']))
            assert spin_until(executor, future.done, 30.0), proc.log()[-2000:]
            lag, source = future.result().values
            assert proc.alive(), proc.log()[-2000:]
    finally:
        node.destroy_client(cli)
    return lag.double_value, source.string_value


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """Copies of the shipped self-model, each with the lag measured offline on one simulated head,
    and one with no lag (a model trained before lags were measured)."""
    tmp = tmp_path_factory.mktemp('self_models')
    heads = {'emo': load_head(), 'fast': load_head(faster_head_yaml(tmp / 'fast.yaml'))}
    out = {}
    for name, head in heads.items():
        path = tmp / f'inverse_{name}.pt'
        shutil.copy(robot_lag.default_self_model_path(), path)
        robot_lag.write_lag(path, measure_lag.measure_offline(head, 30))
        out[name] = path
    ckpt = torch.load(robot_lag.default_self_model_path(), map_location='cpu', weights_only=True)
    del ckpt['meta']['robot_lag']
    out['none'] = tmp / 'inverse_no_lag.pt'
    torch.save(ckpt, out['none'])
    return out


def test_the_faster_head_gets_the_shorter_horizon_by_default(ros_node, tmp_path, checkpoints):
    got = {name: lag_parameters(ros_node, tmp_path, {'self_model_path': str(checkpoints[name])})
           for name in ('emo', 'fast')}
    for name, (lag, source) in got.items():
        saved = robot_lag.read_lag(checkpoints[name])
        assert lag == pytest.approx(saved['lag_s']), source           # the value saved with its self-model
        assert source.startswith('measured') and str(checkpoints[name]) in source
        assert f"t50 {saved['t50_s']} s" in source
    assert got['fast'][0] < got['emo'][0]
    assert 'fast_emo' in got['fast'][1]


def test_a_robot_lag_set_by_parameter_wins(ros_node, tmp_path, checkpoints):
    lag, source = lag_parameters(ros_node, tmp_path, {'self_model_path': str(checkpoints['fast']),
                                                    'robot_lag_s': 0.3})
    assert lag == pytest.approx(0.3) and source == 'set by parameter'


def test_a_self_model_without_a_lag_anticipates_none_and_says_why(ros_node, tmp_path, checkpoints):
    lag, source = lag_parameters(ros_node, tmp_path, {'self_model_path': str(checkpoints['none'])})
    assert lag == 0.0
    assert source.startswith('none') and 'has no measured lag' in source and str(checkpoints['none']) in source
    assert 'python -m emo_inverse.training.measure_lag' in source                # and how to measure it


def test_the_shipped_self_model_sets_the_default(ros_node, tmp_path):
    lag, source = lag_parameters(ros_node, tmp_path, {})
    assert lag == pytest.approx(robot_lag.read_lag(robot_lag.default_self_model_path())['lag_s'])
    assert source.startswith('measured') and 'inverse_default.pt' in source

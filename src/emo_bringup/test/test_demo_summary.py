"""What make demo reports beyond the gaps: the plant it ran against and the figure of each expression."""
import numpy as np
import pytest

from emo_bringup.demo import figure, plant_summary
from emo_bringup.timing import Curves, arrival_gaps

pytest.importorskip('torch')


def _curves(delay_s):
    t = np.arange(0, 12, 1 / 30)
    rise = lambda start, s: np.clip((t - start) / s, 0, 1) ** 2 * (3 - 2 * np.clip((t - start) / s, 0, 1))  # noqa: E731
    human = rise(2.0, 0.5) - rise(4.0, 0.3) + 0.6 * rise(7.0, 1.2) - 0.6 * rise(9.5, 0.3)
    return Curves(t, human, t, np.interp(t - delay_s, t, human, left=0.0))


def test_the_summary_names_the_plant_and_the_measured_lag():
    real, ideal = plant_summary('real'), plant_summary('ideal')
    assert real['plant'] == 'real' and ideal['plant'] == 'ideal'
    assert 0.0 < real['camera_capture_latency_s'] < 0.2 and ideal['camera_capture_latency_s'] == 0.0
    dynamics = real['dynamics']
    assert dynamics['skin_order'] >= 1 and dynamics['skin_time_constant_s'] > 0
    assert all(0 < v < 1e9 for v in dynamics['load_speed_ticks_s'].values())
    assert ideal['dynamics'].startswith('ideal')
    lag = real['measured_robot_lag']                      # saved with the shipped self-model
    assert 0.05 < lag['lag_s'] < 0.5 and lag['t50_s'] < lag['t90_s']


def test_the_figure_has_one_panel_per_expression(tmp_path):
    windows = [(1.9, 3.3), (6.9, 9.0)]
    runs = {}
    for mode, delay in (('anticipate', 0.0), ('mimic', 0.25)):
        curves = _curves(delay)
        runs[mode] = {'curves': curves, 'windows': windows, 'labels': ['smile', 'brow_raise'],
                      **arrival_gaps(curves, windows)}
    path = tmp_path / 'coexpression.png'
    figure(runs, path)
    import matplotlib.image
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 1.5 * 2.6 * 110 and image.shape[1] >= 10 * 110 - 2   # two panels of 2.6 in, 10 in wide

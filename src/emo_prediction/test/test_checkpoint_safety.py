"""Model files are read with torch's weights-only unpickler: a crafted checkpoint cannot run code
(issue 13: model paths come from node parameters), and the shipped checkpoints still load."""
import builtins

import numpy as np
import pytest

torch = pytest.importorskip('torch')
from emo_inverse import model as inverse_model  # noqa: E402
from emo_inverse.robot_lag import default_self_model_path  # noqa: E402
from emo_prediction import model as predictor_model  # noqa: E402


class RunsCode:
    """Unpickling this calls exec, which writes a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.exec, (f'open({self.marker!r}, "w").write("code ran")',)


LOADERS = {
    'predictor load_checkpoint': predictor_model.load_checkpoint,
    'predictor load_forecaster': predictor_model.load_forecaster,
    'inverse load_checkpoint': inverse_model.load_checkpoint,
}


@pytest.mark.parametrize('where', ['state_dict', 'meta', 'forecaster'])
@pytest.mark.parametrize('loader', LOADERS.values(), ids=LOADERS.keys())
def test_a_checkpoint_that_would_run_code_is_refused(tmp_path, loader, where):
    marker = tmp_path / 'marker'
    ckpt = {'state_dict': predictor_model.PredictiveModel(hidden=8).state_dict(), 'hidden': 8, 'meta': {}}
    ckpt[where] = RunsCode(marker)
    torch.save(ckpt, tmp_path / 'crafted.pt')
    with pytest.raises(ValueError, match=r'crafted\.pt: refused to load: not a plain weights checkpoint.*exec'):
        loader(tmp_path / 'crafted.pt')
    assert not marker.exists(), 'unpickling the checkpoint ran code'


def test_the_shipped_checkpoints_load():
    model, meta = predictor_model.load_checkpoint(predictor_model.default_model_path())
    forecaster, f_meta = predictor_model.load_forecaster(predictor_model.default_model_path())
    assert isinstance(model, predictor_model.PredictiveModel) and forecaster is not None and f_meta
    inverse, _ = inverse_model.load_checkpoint(default_self_model_path())
    assert isinstance(inverse, inverse_model.InverseModel)


def test_a_saved_checkpoint_with_numpy_values_loads(tmp_path):
    """The forecaster's numpy arrays (and numpy numbers in meta) are plain data: they still load."""
    model, _ = predictor_model.load_checkpoint(predictor_model.default_model_path())
    forecaster, f_meta = predictor_model.load_forecaster(predictor_model.default_model_path())
    meta = {'lead_s': np.float64(0.5), 'count': np.int64(3), 'scale': np.float32(2.0)}
    predictor_model.save_checkpoint(tmp_path / 'm.pt', model, meta, forecaster, f_meta)
    _, loaded_meta = predictor_model.load_checkpoint(tmp_path / 'm.pt')
    loaded, _ = predictor_model.load_forecaster(tmp_path / 'm.pt')
    assert loaded_meta == {'lead_s': 0.5, 'count': 3, 'scale': 2.0}
    for k, v in forecaster.arrays().items():
        assert np.array_equal(loaded.arrays()[k], v), k

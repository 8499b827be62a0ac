"""Image <-> ndarray conversion: encodings, padded rows, and clear errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

pytest.importorskip('sensor_msgs')
from sensor_msgs.msg import Image  # noqa: E402

from emo_perception.image_conversion import (  # noqa: E402
    ImageConversionError, array_to_image, image_to_array, image_to_rgb)


def padded_image(array: np.ndarray, encoding: str, pad: int) -> Image:
    """An Image whose rows carry `pad` junk bytes, as some camera drivers send."""
    rows = array.reshape(array.shape[0], -1).view(np.uint8)
    junk = np.full((rows.shape[0], pad), 0xAB, np.uint8)
    data = np.hstack([rows, junk])
    return Image(height=array.shape[0], width=array.shape[1], encoding=encoding,
                 step=data.shape[1], data=data.tobytes())


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 12), w=st.integers(1, 12), pad=st.integers(0, 7),
       encoding=st.sampled_from(['rgb8', 'bgr8', 'mono8', 'rgba8', 'bgra8']), seed=st.integers(0, 2 ** 16))
def test_padded_rows_read_back_exactly(h, w, pad, encoding, seed):
    channels = {'rgb8': 3, 'bgr8': 3, 'mono8': 1, 'rgba8': 4, 'bgra8': 4}[encoding]
    shape = (h, w) if channels == 1 else (h, w, channels)
    array = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    assert np.array_equal(image_to_array(padded_image(array, encoding, pad)), array)


def test_every_encoding_becomes_the_same_rgb():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    alpha = np.full((4, 5, 1), 200, np.uint8)
    assert np.array_equal(image_to_rgb(array_to_image(rgb, 'rgb8')), rgb)
    assert np.array_equal(image_to_rgb(array_to_image(rgb[:, :, ::-1].copy(), 'bgr8')), rgb)
    assert np.array_equal(image_to_rgb(array_to_image(np.dstack([rgb, alpha]), 'rgba8')), rgb)
    assert np.array_equal(image_to_rgb(array_to_image(np.dstack([rgb[:, :, ::-1], alpha]), 'bgra8')), rgb)
    gray = rgb[:, :, 0].copy()
    assert np.array_equal(image_to_rgb(array_to_image(gray, 'mono8')), np.dstack([gray] * 3))


def test_array_to_image_packs_rows_and_keeps_header():
    from std_msgs.msg import Header
    msg = array_to_image(np.zeros((3, 7, 3), np.uint8), 'bgr8', Header(frame_id='eye'))
    assert (msg.height, msg.width, msg.step, len(msg.data), msg.header.frame_id) == (3, 7, 21, 63, 'eye')


@pytest.mark.parametrize('image, message', [
    (Image(height=2, width=2, encoding='yuv422', step=4, data=bytes(8)), 'unsupported encoding'),
    (Image(height=0, width=0, encoding='rgb8', step=0, data=b''), 'empty image'),
    (Image(height=2, width=2, encoding='rgb8', step=5, data=bytes(12)), 'step 5 is smaller'),
    (Image(height=2, width=2, encoding='rgb8', step=6, data=bytes(7)), 'data has 7 bytes'),
])
def test_bad_images_raise_a_clear_error(image, message):
    with pytest.raises(ImageConversionError, match=message):
        image_to_rgb(image)


def test_array_of_the_wrong_shape_is_refused():
    with pytest.raises(ImageConversionError, match='rgb8 needs'):
        array_to_image(np.zeros((4, 4), np.uint8), 'rgb8')

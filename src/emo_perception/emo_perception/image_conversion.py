"""sensor_msgs/Image <-> numpy, without cv_bridge.

    rgb = image_to_rgb(msg)                      # (H, W, 3) uint8, whatever the encoding
    msg = array_to_image(rgb, 'rgb8', header)    # rows packed, step = width * 3

The PyPI `cv-bridge` is a ROS 1-era package that breaks on current numpy and
OpenCV, so the stack uses this one small conversion everywhere. Rows may be
padded (`step` > width * bytes per pixel), as some camera drivers send them.
"""
import numpy as np

# encoding -> (channels, dtype)
ENCODINGS = {
    'rgb8': (3, np.uint8), 'bgr8': (3, np.uint8), 'rgba8': (4, np.uint8), 'bgra8': (4, np.uint8),
    'mono8': (1, np.uint8), '8UC1': (1, np.uint8), '8UC3': (3, np.uint8), 'mono16': (1, np.uint16),
}


class ImageConversionError(ValueError):
    """The message cannot be read as an image (unknown encoding, wrong size, empty). `kind` names the
    problem from a fixed set (encoding, empty, step, size, array), e.g. to throttle reports per kind."""

    def __init__(self, message: str, kind: str = 'other'):
        super().__init__(message)
        self.kind = kind


def image_to_array(msg) -> np.ndarray:
    """The pixels of a sensor_msgs/Image as (H, W) or (H, W, C), in the message's own encoding."""
    if msg.encoding not in ENCODINGS:
        raise ImageConversionError(
            f'unsupported encoding {msg.encoding!r} (supported: {", ".join(sorted(ENCODINGS))})', 'encoding')
    channels, dtype = ENCODINGS[msg.encoding]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height == 0 or width == 0:
        raise ImageConversionError(f'empty image ({width}x{height})', 'empty')
    row_bytes = width * channels * np.dtype(dtype).itemsize
    if step < row_bytes:
        raise ImageConversionError(
            f'step {step} is smaller than a row of {width} {msg.encoding} pixels ({row_bytes} bytes)', 'step')
    try:
        data = np.frombuffer(msg.data, dtype=np.uint8)  # array.array, bytes: no copy
    except TypeError:
        data = np.asarray(msg.data, dtype=np.uint8)     # a plain list
    if data.size < step * (height - 1) + row_bytes:
        raise ImageConversionError(
            f'data has {data.size} bytes, a {width}x{height} {msg.encoding} image with step {step} needs {step * height}',
            'size')
    rows = np.lib.stride_tricks.as_strided(data, shape=(height, row_bytes), strides=(step, 1))
    pixels = np.ascontiguousarray(rows).view(dtype)
    if np.dtype(dtype).itemsize > 1:
        pixels = pixels.view(np.dtype(dtype).newbyteorder('>' if msg.is_bigendian else '<'))
    return pixels.reshape(height, width, channels) if channels > 1 else pixels.reshape(height, width)


def image_to_rgb(msg) -> np.ndarray:
    """A sensor_msgs/Image as an RGB uint8 (H, W, 3) array, converting from any supported encoding."""
    pixels = image_to_array(msg)
    enc = msg.encoding
    if enc in ('rgb8', '8UC3'):
        return pixels
    if enc == 'bgr8':
        return pixels[:, :, ::-1].copy()
    if enc == 'rgba8':
        return pixels[:, :, :3].copy()
    if enc == 'bgra8':
        return pixels[:, :, 2::-1].copy()
    if enc == 'mono16':
        pixels = (pixels >> 8).astype(np.uint8)
    return np.repeat(pixels[:, :, None], 3, axis=2)


def array_to_image(array: np.ndarray, encoding: str, header=None):
    """A numpy image as a sensor_msgs/Image with packed rows (step = width * pixel bytes)."""
    from sensor_msgs.msg import Image
    if encoding not in ENCODINGS:
        raise ImageConversionError(f'unsupported encoding {encoding!r}', 'encoding')
    channels, dtype = ENCODINGS[encoding]
    array = np.asarray(array)
    shape_ok = array.ndim == 2 if channels == 1 else (array.ndim == 3 and array.shape[2] == channels)
    if not shape_ok or array.dtype != dtype:
        raise ImageConversionError(
            f'{encoding} needs a {dtype.__name__} array with {channels} channel(s), got {array.dtype} {array.shape}',
            'array')
    msg = Image()
    if header is not None:
        msg.header = header
    msg.height, msg.width = int(array.shape[0]), int(array.shape[1])
    msg.encoding = encoding
    msg.is_bigendian = False
    msg.step = int(array.shape[1] * channels * np.dtype(dtype).itemsize)
    msg.data = np.ascontiguousarray(array).astype(np.dtype(dtype).newbyteorder('<'), copy=False).tobytes()
    return msg


# image_transport's `compressed` format string for a JPEG of an RGB image (compressed_image_transport).
JPEG_FORMAT = 'rgb8; jpeg compressed bgr8'


def array_to_compressed(rgb: np.ndarray, header=None, quality: int = 90):
    """An RGB uint8 image as a sensor_msgs/CompressedImage (JPEG), as image_transport's `compressed`
    plugin publishes it on <image topic>/compressed: ~20x smaller than the raw image, for datasets."""
    import cv2
    from sensor_msgs.msg import CompressedImage
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ImageConversionError(f'JPEG needs an RGB uint8 image, got {rgb.dtype} {rgb.shape}', 'array')
    ok, jpeg = cv2.imencode('.jpg', cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, int(min(max(quality, 1), 100))])
    if not ok:
        raise ImageConversionError('JPEG encoding failed', 'array')
    msg = CompressedImage(format=JPEG_FORMAT)
    if header is not None:
        msg.header = header
    msg.data = jpeg.tobytes()
    return msg


def compressed_to_rgb(msg) -> np.ndarray:
    """A sensor_msgs/CompressedImage (JPEG or PNG) as an RGB uint8 (H, W, 3) array."""
    import cv2
    data = np.frombuffer(bytes(msg.data), dtype=np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if bgr is None:
        raise ImageConversionError(f'cannot decode a {msg.format!r} compressed image of {data.size} bytes', 'data')
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

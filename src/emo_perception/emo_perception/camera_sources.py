"""Where an eye camera's frames come from: a V4L2 device, a video file or a folder of images.

    source = open_source('0')               # or '/dev/video2', 'clip.mp4', 'frames/'
    frame = source.read()                   # RGB uint8 (H, W, 3), or None
    source.close()

`read()` returns None when no frame is to be had (device unplugged, end of a
file that does not loop); the camera node then publishes nothing rather than
a stale frame, and reopens the source after a while. Errors that make a source
unusable raise `CameraSourceError` with the reason. An unreadable image in a
folder is skipped with a warning (`warn`, by default Python's warnings) and
left out from then on.
"""
import glob
import os
import pathlib
import warnings

import numpy as np

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')


class CameraSourceError(RuntimeError):
    """The source cannot be opened or read (missing device, unreadable file, empty folder)."""


def _resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    import cv2
    if width <= 0 or height <= 0 or (rgb.shape[1], rgb.shape[0]) == (width, height):
        return rgb
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)


class FrameSource:
    """Base of every source: frames as RGB uint8 arrays at a nominal rate."""
    kind = 'base'
    fps = 30.0
    live = False  # a device delivers frames at its own pace; files are paced by the node

    def read(self):
        raise NotImplementedError

    def close(self) -> None:
        pass


class DeviceSource(FrameSource):
    """A V4L2 camera, by index ('0') or path ('/dev/video0')."""
    kind = 'device'
    live = True

    def __init__(self, device: str, width: int = 0, height: int = 0, fps: float = 0.0):
        import cv2
        self.device = device
        target = int(device) if str(device).isdigit() else str(device)
        if isinstance(target, str) and not os.path.exists(target):
            raise CameraSourceError(f'camera device {target} does not exist')
        self._cap = cv2.VideoCapture(target, cv2.CAP_V4L2)
        if not self._cap.isOpened():
            raise CameraSourceError(f'cannot open camera device {device!r}')
        if width > 0 and height > 0:
            self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        if fps > 0:
            self._cap.set(cv2.CAP_PROP_FPS, fps)
        self.fps = fps or self._cap.get(cv2.CAP_PROP_FPS) or 30.0
        self.width, self.height = width, height

    def read(self):
        import cv2
        ok, bgr = self._cap.read()
        if not ok or bgr is None:
            return None
        return _resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), self.width, self.height)

    def close(self) -> None:
        self._cap.release()


class VideoFileSource(FrameSource):
    """A video file, played once or looped."""
    kind = 'file'

    def __init__(self, path: str, width: int = 0, height: int = 0, loop: bool = True, fps: float = 0.0):
        import cv2
        self.path = str(path)
        if not os.path.isfile(self.path):
            raise CameraSourceError(f'video file {self.path} does not exist')
        self._cap = cv2.VideoCapture(self.path)
        if not self._cap.isOpened():
            raise CameraSourceError(f'cannot decode video file {self.path}')
        self.fps = fps or self._cap.get(cv2.CAP_PROP_FPS) or 30.0
        self.loop, self.width, self.height = loop, width, height
        self.frame_index = -1

    def read(self):
        import cv2
        ok, bgr = self._cap.read()
        if not ok and self.loop:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            self.frame_index = -1
            ok, bgr = self._cap.read()
        if not ok or bgr is None:
            return None
        self.frame_index += 1
        return _resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), self.width, self.height)

    def close(self) -> None:
        self._cap.release()


def _warn(text: str) -> None:
    warnings.warn(text, RuntimeWarning, stacklevel=3)


class ImageFolderSource(FrameSource):
    """The images of a folder in name order, as frames. An unreadable one is skipped with a warning
    (`warn(text)`) and dropped from the list (`skipped`); none readable left is a CameraSourceError."""
    kind = 'folder'

    def __init__(self, folder: str, width: int = 0, height: int = 0, loop: bool = True, fps: float = 30.0,
                 warn=None):
        self.folder = folder
        self.paths = sorted(p for p in glob.glob(os.path.join(folder, '*')) if p.lower().endswith(IMAGE_SUFFIXES))
        if not self.paths:
            raise CameraSourceError(f'no images ({", ".join(IMAGE_SUFFIXES)}) in folder {folder}')
        self.fps, self.loop, self.width, self.height = fps or 30.0, loop, width, height
        self.warn = warn or _warn
        self.skipped = []
        self.frame_index = -1

    def read(self):
        import cv2
        while self.paths:
            if self.frame_index + 1 >= len(self.paths):
                if not self.loop:
                    return None
                self.frame_index = -1
            self.frame_index += 1
            path = self.paths[self.frame_index]
            try:
                bgr = cv2.imread(path, cv2.IMREAD_COLOR)
            except cv2.error:
                bgr = None
            if bgr is not None:
                return _resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), self.width, self.height)
            del self.paths[self.frame_index]
            self.frame_index -= 1
            self.skipped.append(path)
            self.warn(f'skipping unreadable image {path} ({len(self.paths)} readable images left in the folder)')
        raise CameraSourceError(f'no readable images in folder {self.folder} ({len(self.skipped)} unreadable)')


def open_source(spec: str, width: int = 0, height: int = 0, fps: float = 0.0, loop: bool = True,
                warn=None) -> FrameSource:
    """Open a source from its parameter string: a device index or /dev path, a video file, a folder.
    `warn(text)` receives a folder's warnings about unreadable images."""
    spec = str(spec).strip()
    if not spec:
        raise CameraSourceError('empty camera source; use a device (0, /dev/video0), a video file or a folder')
    if spec.isdigit() or spec.startswith('/dev/'):
        return DeviceSource(spec, width, height, fps)
    path = pathlib.Path(spec).expanduser()
    if path.is_dir():
        return ImageFolderSource(str(path), width, height, loop, fps, warn)
    if path.is_file():
        return VideoFileSource(str(path), width, height, loop, fps)
    raise CameraSourceError(f'camera source {spec!r} is not a device, an existing video file or a folder')

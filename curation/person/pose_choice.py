"""Which pose source serves a video, decided once per source: under `pose: {backend: auto}` (the default) a sidecar
file beside the video when there is one, otherwise the mediapipe backend; under `sidecar` only the sidecar.

`source_pose_problem` is asked before a source is decoded, so a source whose pose stage cannot run fails once, with
one reason, instead of once per clip after the whole video was decoded.
"""

from __future__ import annotations

import os

from curation.backends.mediapipe_pose import mediapipe_available
from curation.person.pose_sidecar import SIDECAR_SUFFIXES, SidecarPose, find_sidecar

#: What `pose_route` answers: read the sidecar file, or run the estimator the configuration names.
SIDECAR, ESTIMATOR = "sidecar", "estimator"


def pose_route(source: str, backend: str) -> str:
    """SIDECAR or ESTIMATOR for `source` under the pose backend `backend`."""
    if backend == "sidecar" or (backend == "auto" and find_sidecar(source) is not None):
        return SIDECAR
    return ESTIMATOR


def no_sidecar_reason(source: str) -> str:
    looked = ", ".join(f"NAME{s}" for s in SIDECAR_SUFFIXES)
    return (
        f"{source}: no pose sidecar beside it (looked for {looked}) and the pose backend is `sidecar`; "
        "use `pose: {backend: auto}` (the default) to run mediapipe where there is no sidecar"
    )


def source_pose_problem(source: str, source_size: tuple[int, int], backend: str) -> str | None:
    """Why the pose stage cannot run on `source` (display size `source_size`) under `backend`, or None.

    Checks what can be known before decoding: the sidecar exists and holds valid keypoints, or the estimator's
    package is installed. A learned backend's weights are checked where it loads."""
    route = pose_route(source, backend)
    if route == SIDECAR:
        path = find_sidecar(source)
        if path is None:
            return no_sidecar_reason(source)
        try:
            SidecarPose(path, source_size)
        except (OSError, ValueError) as error:
            return f"{os.fspath(path)}: the pose sidecar cannot be used: {error}"
        return None
    if backend in ("auto", "mediapipe") and not mediapipe_available():
        return (
            f"{source}: no pose sidecar beside it and the `mediapipe` package is not installed (wheels for Linux "
            "x86_64, macOS and Windows); add a sidecar or configure `pose: {backend: dwpose}`"
        )
    return None

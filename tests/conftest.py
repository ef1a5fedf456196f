"""Shared test settings: single-threaded OpenCV keeps timings and results stable on small CI machines."""

import cv2

cv2.setNumThreads(1)

"""Learned curation backends (DWPose on ONNX Runtime, SAM2 video masks, CoTracker3 tracks), each behind the same
plain-function interface as the CPU defaults and selected by configuration. Heavy imports stay inside them."""

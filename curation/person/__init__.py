"""The person in a clip: the 133-point COCO-WholeBody layout (`wholebody`), keypoints from sidecar files
(`pose_sidecar`), the foreground mask drawn from them (`foreground_mask`), and the OpenPose-style skeleton image
(`pose_render`)."""

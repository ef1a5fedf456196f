"""The background-motion suite: a generated video's background against its clip's ground truth (`truth`), one
analysis per video (`analysis`, `epipolar`), and the metrics over videos (`suite`)."""

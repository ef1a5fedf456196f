"""Motion of the background: point tracks on the CPU (`tracks`), homographies and fundamental matrices estimated from
them (`camera_estimation`), and the decomposition, labels and magnitude of a camera path (`camera_labels`)."""

"""Reading and cutting videos: the one video reader (`reader`: path or bytes, rotation, constant-rate resampling,
windows), H.264 writing (`encode`), shot detection (`shots`), clips cut inside shots while frames stream (`clipping`),
and the lists of sources a job reads (`source_lists`)."""

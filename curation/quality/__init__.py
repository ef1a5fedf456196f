"""Whether a clip is worth keeping: weights-free scores (`scores`), pyiqa no-reference scores (`iqa`) and the
configured filter rules (`filters`)."""

"""The epoch loop, data-parallel ranks and the fingerprint that keys a resumable checkpoint."""

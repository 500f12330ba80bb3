"""What every stage shares: parameters, the one error type, entry points, atomic files, paths."""

"""Classification metrics, curves and their figures, in numpy, pandas and matplotlib."""

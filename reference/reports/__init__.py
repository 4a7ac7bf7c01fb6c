"""Reports for the library: figures over a period (figures.py), their filters (filters.py), the
staff page and CSV tables (views.py), transcript exports (exports.py) and the monthly summary."""

"""Energy service (chargegrid.energy)."""

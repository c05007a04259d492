"""Analytics service (chargegrid.analytics)."""

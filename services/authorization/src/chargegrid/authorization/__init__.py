"""Authorization service: who may charge, answered from memory; local lists kept in step on the stations."""

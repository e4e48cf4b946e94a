"""Turning ``labels/`` into a versioned, evaluated stance model, and managing those versions."""

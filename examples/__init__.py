"""Example services deployed by the local target."""

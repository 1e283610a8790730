"""screens of the accord board."""

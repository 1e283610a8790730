"""widgets of the accord board."""

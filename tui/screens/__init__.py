"""Screens of the accord client: the board (its parts split by what they hold)."""

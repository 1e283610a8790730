"""Widgets of the accord board, one family per module: phase bar, sidebar, phase panels."""

"""Screens of the accord client: the board, help, the first-run profile and the dialogs."""

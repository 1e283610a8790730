"""Modal dialogs (``ModalScreen[T]``): forms, prompts, confirmations, help and invites."""

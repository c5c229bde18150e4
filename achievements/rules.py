"""Pure achievement rules (no Django): filled in by the achievements issue."""

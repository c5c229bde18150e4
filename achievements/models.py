"""Models of the achievements app."""

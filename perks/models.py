"""Models of the perks app."""

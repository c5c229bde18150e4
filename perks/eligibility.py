"""Pure eligibility rules for perk campaigns (no Django): filled in by the perks issue."""

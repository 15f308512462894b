"""A tiny shop: the code under test of suitescope's example project."""

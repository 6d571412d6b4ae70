"""The command center: a wall-screen view of a region's complaints that updates itself."""

"""bridge plugin package for tiktokshop."""

"""bridge plugin package for bigcommerce."""

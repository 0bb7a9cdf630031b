"""bridge plugin package for woocommerce."""

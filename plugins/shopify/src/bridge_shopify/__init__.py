"""bridge plugin package for shopify."""

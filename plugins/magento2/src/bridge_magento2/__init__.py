"""bridge plugin package for magento2."""

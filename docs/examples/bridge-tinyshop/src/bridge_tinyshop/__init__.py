"""bridge connector for Tiny Shop (platform ``tinyshop``, kind ``ecommerce``)."""

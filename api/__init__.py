"""api: the order gateway. Takes orders, stores them, and reserves stock in downstream."""

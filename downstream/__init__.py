"""downstream: the inventory service. Holds stock and reservations."""

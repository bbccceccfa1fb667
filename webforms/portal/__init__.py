"""The customer portal: a separate, simpler area for the customers of the archive (role customer)."""

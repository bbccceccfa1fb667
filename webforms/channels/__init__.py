"""What the channels received: the quarantine and the alert sources (desk staff)."""

"""dksync: Moment to DK+ batch synchronizer."""

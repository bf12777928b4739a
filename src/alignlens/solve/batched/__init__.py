"""The analysis of many small worlds at once (the batch axis is worlds): one compiled loop
that computes what the per-world analysis computes, number for number."""

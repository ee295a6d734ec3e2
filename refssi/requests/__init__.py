"""The service catalogue (BFD09): requests, requested items and catalogue tasks."""

"""ServiceNow's Table API and Batch API: an engine over table definitions that the domains register."""

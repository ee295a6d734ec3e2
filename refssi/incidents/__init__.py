"""Incidents: rules, store, Service Portal pages, the REST API (tables and attachments), operator figures."""

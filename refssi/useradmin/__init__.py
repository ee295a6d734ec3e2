"""User administration by an organisation's Administration User: rules, store, portal pages, the users table."""

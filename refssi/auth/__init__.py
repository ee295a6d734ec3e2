"""Signing in: local login with MFA, single sign-on through Entra ID, and Entra ID itself."""

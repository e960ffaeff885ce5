"""Accounts: users, sign-in, organizations, memberships and invitations."""

"""Accounts: users, passwords, sign-up and password resets."""

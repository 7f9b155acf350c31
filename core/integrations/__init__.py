"""Thin wrappers over the Slack, Google and Salesforce clients, behind small interfaces."""

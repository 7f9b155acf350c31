"""Local fake servers for Slack, Google and Salesforce, driven by the real client libraries."""

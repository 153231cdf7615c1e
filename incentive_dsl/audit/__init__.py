"""Audit: run stamps, explanations of payout lines, plan and payout diffs."""

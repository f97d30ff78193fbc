"""Helpers of the suite: servers, S3, disks, media fixtures, hostile text."""

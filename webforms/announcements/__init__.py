"""Announcements (公告): the management page and the banner on the login page and the inbox."""

"""The VideoMeetings port: Zoom, and a fake for the embedded mode."""

"""The FileStorage port: a local folder, memory, an S3-compatible bucket."""

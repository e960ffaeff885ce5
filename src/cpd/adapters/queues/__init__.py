"""The TaskQueue port: in process, or SAQ on Redis; one log line per task run."""

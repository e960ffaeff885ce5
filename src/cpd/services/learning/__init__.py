"""Learning: courses and enrollments."""
